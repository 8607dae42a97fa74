package tfharness

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
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

// referenceDS matches the reference DS image, dsenv/datastorage with any tag or digest (the
// same rule as modules/stack's).
var referenceDS = regexp.MustCompile(`^dsenv/datastorage([:@].*)?$`)

// errNoMigrations is modules/stack's plan-time refusal, said before anything starts.
var errNoMigrations = errors.New("migrations_dir is required: datastorage_image is not the reference DS (dsenv/datastorage), and the built-in migrations are the reference DS's schema. " +
	"On a schema it does not know the real DS answers 202 (events queued to its dead-letter queue) to writes and 500 to queries. " +
	"Set migrations_dir to that DS's own goose migrations (DSENV_MIGRATIONS_DIR, WithMigrationsDir, make up MIGRATIONS_DIR=...)")

// checkSchema refuses an image other than the reference DS without its own migrations.
func checkSchema(vars map[string]any) error {
	img, _ := vars["datastorage_image"].(string)
	if img == "" || referenceDS.MatchString(img) {
		return nil
	}
	if dir, _ := vars["migrations_dir"].(string); dir != "" {
		return nil
	}
	return fmt.Errorf("datastorage_image %q: %w", img, errNoMigrations)
}
