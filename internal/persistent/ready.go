package persistent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/ready"
)

// waitReady waits for the DS of the outputs: /readyz 200 (at most three minutes), then one
// authenticated request answered 2xx (at most 15 s: the DS checks tokens with the auth
// stand-in or kube-apiserver, which /readyz does not look at).
func waitReady(ctx context.Context, out map[string]tfexec.OutputMeta) error {
	str := func(name string) string {
		var s string
		if m, ok := out[name]; ok {
			_ = json.Unmarshal(m.Value, &s)
		}
		return s
	}
	health, api, token := str("datastorage_health_url"), str("datastorage_url"), str("api_token")
	if health == "" || api == "" {
		return nil
	}
	// Who checks the tokens, and which containers' logs say why it failed.
	checker, logs := "the auth stand-in", `make logs LOGSFLAGS="datastorage kube-auth"`
	if str("auth_backend") == AuthKube {
		checker, logs = "kube-apiserver", `make logs LOGSFLAGS="datastorage kube-apiserver"`
	}
	limit := 3 * time.Minute
	err := ready.Probe{URL: strings.TrimRight(health, "/") + "/readyz", Timeout: limit}.Wait(ctx)
	var re *ready.Error
	if errors.As(err, &re) {
		return fmt.Errorf("ready: %s did not answer 2xx within %s (last: %s; run `make logs` for the containers' log lines)", re.URL, limit, re.Last)
	}
	if err != nil {
		return err
	}
	what := "authenticated request through " + checker
	limit = 15 * time.Second
	err = ready.Probe{URL: strings.TrimRight(api, "/") + "/api/v1/audit/events?limit=1", Token: token, Timeout: limit, Stop: ready.Refused}.Wait(ctx)
	if errors.As(err, &re) && re.Reason != "" {
		return fmt.Errorf("%s: %s answered %s with the environment's api_token (run `%s` for their log lines)", what, re.URL, re.Last, logs)
	}
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %s did not answer 2xx within %s (last: %s; run `%s` for their log lines)", what, re.URL, limit, re.Last, logs)
	}
	return err
}
