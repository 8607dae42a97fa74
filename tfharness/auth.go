package tfharness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/ready"
)

// authProbePath is the request the readiness check makes with the environment's token: the
// cheapest read of the API, which goes through authentication and the access check.
const authProbePath = "/api/v1/audit/events?limit=1"

// authTimeout bounds how long the readiness check waits for an authenticated request to
// answer 2xx while the auth stand-in runs: it may start listening a moment after the DS.
const authTimeout = 5 * time.Second

// waitAuthenticated makes one authenticated request to the DS (after /readyz answered 200,
// which says nothing about authentication) until it answers 2xx. A 401 or 403 fails at once:
// the environment's own token is refused. An answer of 5xx (the DS cannot reach the
// Kubernetes API) fails at once when the auth stand-in is not running, else after
// authTimeout. Each failure names the stand-in and carries its and the DS's last log lines.
func (e *Env) waitAuthenticated(ctx context.Context) error {
	if e.DataStorage.URL == "" || e.Token == "" {
		return nil
	}
	url := strings.TrimRight(e.DataStorage.URL, "/") + authProbePath
	err := ready.Probe{URL: url, Token: e.Token, Timeout: authTimeout, Interval: readyPoll, Stop: func(ctx context.Context, status int) string {
		if r := ready.Refused(ctx, status); r != "" {
			return r
		}
		return e.standInDown(ctx)
	}}.Wait(ctx)
	var re *ready.Error
	switch {
	case !errors.As(err, &re):
		return err
	case re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden:
		return e.authError(fmt.Sprintf("GET %s with the environment's token answered %s: the token is refused", authProbePath, e.redact(re.Last)))
	case re.Reason != "":
		return e.authError(fmt.Sprintf("GET %s answered %s: %s", authProbePath, e.redact(re.Last), re.Reason))
	}
	_, short, _ := e.authService()
	return e.authError(fmt.Sprintf("GET %s did not answer 2xx within %s (last: %s): the DS cannot check tokens with %s", authProbePath, authTimeout, e.redact(re.Last), short))
}

// standInDown says why the auth stand-in container is not serving ("" when it runs).
func (e *Env) standInDown(ctx context.Context) string {
	svc, what, _ := e.authService()
	c, ok := e.Containers[svc]
	if !ok {
		return ""
	}
	d, err := engine.FromEnv()
	if err != nil {
		return ""
	}
	st, err := d.Inspect(ctx, c.ID)
	if engine.IsStatus(err, http.StatusNotFound) {
		return fmt.Sprintf("%s container %s is gone", what, c.Name)
	}
	if err != nil || st.State.Status == "running" {
		return ""
	}
	return fmt.Sprintf("%s container %s is %s (exit code %d)", what, c.Name, st.State.Status, st.State.ExitCode)
}

// authError is msg with the last log lines of the auth stand-in and of the DS.
func (e *Env) authError(msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	svc, _, what := e.authService()
	b.WriteString("authenticated request failed (the DS checks tokens with " + what)
	if c, ok := e.Containers[svc]; ok {
		b.WriteString(", container " + c.Name)
	}
	b.WriteString("): ")
	b.WriteString(msg)
	d, err := engine.FromEnv()
	for _, svc := range []string{svc, "datastorage"} {
		c, ok := e.Containers[svc]
		if !ok || err != nil {
			continue
		}
		logs, lerr := d.Logs(ctx, c.ID, 10, false)
		if lerr != nil {
			logs = "(" + lerr.Error() + ")"
		}
		fmt.Fprintf(&b, "\nlast log lines of %s:\n%s", c.Name, strings.TrimRight(logs, "\n"))
	}
	return fmt.Errorf("%s", e.redact(b.String()))
}

// authService is the container that answers the DS's reviews and its short and long names:
// the real kube-apiserver with the kube backend, else the stand-in.
func (e *Env) authService() (svc, short, long string) {
	if _, ok := e.Containers["kube_api"]; ok {
		return "kube_api", "the kube-apiserver", "the Kubernetes API (kube-apiserver)"
	}
	return "kube_auth", "the auth stand-in", "the Kubernetes auth stand-in"
}
