package tfharness

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dsenv/dsenv/internal/label"
)

// labels are the labels of every Docker object of the environment.
func (e *Env) labels() map[string]string {
	l := maps.Clone(e.cfg.labels)
	l[label.Env] = e.ID
	l[label.Owner] = e.Owner
	l[label.Created] = strconv.FormatInt(e.Created.Unix(), 10)
	return l
}

// vars are the non-secret variables of the root module.
func (e *Env) vars() map[string]any {
	v := map[string]any{
		"owner":   e.Owner,
		"created": strconv.FormatInt(e.Created.Unix(), 10),
	}
	if len(e.cfg.labels) > 0 {
		v["labels"] = maps.Clone(e.cfg.labels)
	}
	maps.Copy(v, e.cfg.vars)
	v["name_prefix"] = e.ID
	return v
}

// fastDefaults are the root module variables the harness sets unless the caller does
// (WithVars), when the module declares them: no DS preflight job and no provider wait
// for the DS healthcheck. The harness's own /readyz poll, run while it watches the
// containers, does both jobs faster (see apply).
var fastDefaults = map[string]any{
	"datastorage_preflight": false,
	"datastorage_wait":      false,
}

// writeVars writes the variables as *.auto.tfvars.json into the working directory, so
// no value is ever in argv, and a kept environment can be planned in place. Secrets go
// to their own 0600 file in the 0700 workspace: terraform-exec refuses TF_VAR_* in
// SetEnv, and the state beside it holds the same values anyway.
func (e *Env) writeVars(vars map[string]any) error {
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.Dir, "dsenv.auto.tfvars.json"), b, 0o600); err != nil {
		return err
	}
	s, err := json.Marshal(e.secrets)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.Dir, "secrets.auto.tfvars.json"), s, 0o600)
}
