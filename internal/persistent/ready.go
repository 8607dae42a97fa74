package persistent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
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
	checker, logs := "the auth stand-in", "make logs LOGSFLAGS=\"datastorage kube-auth\""
	if str("auth_backend") == AuthKube {
		checker, logs = "kube-apiserver", "make logs LOGSFLAGS=\"datastorage kube-apiserver\""
	}
	client := &http.Client{Timeout: 5 * time.Second}
	poll := func(what string, limit time.Duration, url, token string) error {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		var last string
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err == nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					return nil
				}
				last = resp.Status + " " + strings.TrimSpace(string(b))
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					return fmt.Errorf("%s: %s answered %s with the environment's api_token (run `%s` for their log lines)", what, url, last, logs)
				}
			} else {
				last = err.Error()
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: %s did not answer 2xx within %s (last: %s; run `make logs` for the containers' log lines)", what, url, limit, last)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	if err := poll("ready", 3*time.Minute, strings.TrimRight(health, "/")+"/readyz", ""); err != nil {
		return err
	}
	return poll("authenticated request through "+checker, 15*time.Second,
		strings.TrimRight(api, "/")+"/api/v1/audit/events?limit=1", token)
}
