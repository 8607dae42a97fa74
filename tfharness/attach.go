package tfharness

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/dsenv/dsenv/internal/label"
)

// payloadVersion is the version of the document Marshal writes; Attach refuses others.
const payloadVersion = 1

// payload is what Marshal hands to another process: enough to reach, inspect and reset
// the environment, nothing to tear it down with.
type payload struct {
	Version int                        `json:"version"`
	ID      string                     `json:"id"`
	Owner   string                     `json:"owner"`
	Created int64                      `json:"created"` // unix seconds, as the dsenv.created label
	Outputs map[string]json.RawMessage `json:"outputs"` // every output of the root module by name
}

// Marshal returns a small versioned JSON document describing the environment, for
// Attach in another process: Ginkgo's SynchronizedBeforeSuite returns it on process 1
// and every process attaches to it.
//
// The payload holds the environment's secrets (the Postgres and Redis passwords and the
// DS API token, inside the DSNs, URLs and token outputs): hand it only to processes of
// the same test run, and never log it or write it to a world-readable file.
func (e *Env) Marshal() ([]byte, error) {
	if e.Raw == nil {
		return nil, fmt.Errorf("tfharness: env %s: no outputs to marshal (not up)", e.ID)
	}
	return json.Marshal(payload{
		Version: payloadVersion, ID: e.ID, Owner: e.Owner, Created: e.Created.Unix(), Outputs: e.Raw,
	})
}

// Attach returns the environment that Marshal described, with the same typed fields.
// The returned Env does not own the environment: its Down does nothing, and teardown
// (and the reaper's duty, should the owner die) stays with the process that brought it
// up. DumpLogs, Reset, CountEvents and WaitForEvents work on it. Attach talks to
// nothing: call Reset or a query to check the environment is reachable.
func Attach(p []byte, opts ...Option) (*Env, error) {
	var pl payload
	if err := json.Unmarshal(p, &pl); err != nil {
		return nil, fmt.Errorf("tfharness: attach: payload is not Marshal's JSON: %w", err)
	}
	if pl.Version != payloadVersion {
		return nil, fmt.Errorf("tfharness: attach: payload version %d, this tfharness reads version %d", pl.Version, payloadVersion)
	}
	if !label.ValidEnvID.MatchString(pl.ID) {
		return nil, fmt.Errorf("tfharness: attach: payload env id %q is not a dsenv environment id", pl.ID)
	}
	out, err := decodeOutputs(pl.Outputs)
	if err != nil {
		return nil, fmt.Errorf("tfharness: attach: env %s: %w", pl.ID, err)
	}
	cfg := newConfig(opts)
	if cfg.err != nil {
		return nil, fmt.Errorf("tfharness: %w", cfg.err)
	}
	if cfg.logger == nil {
		cfg.logger = stderrLogger{}
	}
	out.ID = pl.ID
	e := &Env{Outputs: *out, Owner: pl.Owner, Created: time.Unix(pl.Created, 0), cfg: cfg, attached: true}
	e.secrets = map[string]string{"postgres_password": "", "redis_password": out.Redis.Password, "api_token": out.Token}
	if pw, ok := passwordOf(out.Postgres.DSN); ok {
		e.secrets["postgres_password"] = pw
	}
	return e, nil
}

// Attached reports whether the Env came from Attach or Shared, i.e. whether this Env's
// Down leaves the environment alone.
func (e *Env) Attached() bool { return e.attached }

// passwordOf returns the password of a URL-style DSN, so that an attached Env redacts it.
func passwordOf(dsn string) (string, bool) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return "", false
	}
	return u.User.Password()
}
