package kubeapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/internal/kubeapi"
	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tfharness"
)

// TestEnvironmentWithTheRealAPI is a whole environment whose DS checks tokens with the real
// kube-apiserver: env.Token is a TokenRequest token and RBAC decides.
func TestEnvironmentWithTheRealAPI(t *testing.T) {
	requireKubeImages(t)
	t0 := time.Now()
	env := tfharness.New(t, tfharness.WithAuthBackend(tfharness.AuthKube))
	t.Logf("Up with the real API in %.1fs (%+v)", time.Since(t0).Seconds(), env.Timings)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.Contains(t, env.Containers, "kube_api")
	require.Contains(t, env.Containers, "etcd")
	assert.NotContains(t, env.Containers, "kube_auth", "no stand-in beside the real API")

	gw := gateway.New(env.DataStorage.URL, env.Token)
	rr := gateway.NewCorrelationID("kube")
	ids, err := gw.PostBatch(ctx, []gateway.Event{gateway.NewEvent(gateway.SignalReceived, rr, "KubeAPI", "prod", 1)})
	require.NoError(t, err, "the gateway's TokenRequest token writes")
	require.Len(t, ids, 1)
	got, err := gw.ByCorrelationID(ctx, rr)
	require.NoError(t, err)
	assert.Len(t, got, 1)

	path := "/api/v1/audit/events?correlation_id=" + rr
	code, err := gw.Status(ctx, path, env.DeniedToken)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, code, "a ServiceAccount with no binding: RBAC denies")
	code, err = gw.Status(ctx, path, "made-up-token-0123456789abcdef")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code, "a made-up token is not authenticated")

	var kc string
	require.NoError(t, json.Unmarshal(env.Raw["kube_admin_kubeconfig"], &kc))
	admin, err := kubeapi.FromKubeconfig([]byte(kc))
	require.NoError(t, err)
	const sa = "writer"
	require.NoError(t, admin.CreateServiceAccount(ctx, "dsenv", sa))
	tok, err := admin.RequestToken(ctx, "dsenv", sa, time.Hour)
	require.NoError(t, err)
	code, err = gw.Status(ctx, path, tok)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, code, "not bound yet")
	require.NoError(t, admin.BindClientRole(ctx, "dsenv", sa))
	var werr error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ids, werr = gateway.New(env.DataStorage.URL, tok).PostBatch(ctx, []gateway.Event{gateway.NewEvent(gateway.SignalReceived, rr, "Writer", "prod", 1)}); werr == nil {
			break
		}
	}
	require.NoError(t, werr, "the test's own ServiceAccount writes once bound")
	got, err = gw.ByCorrelationID(ctx, rr)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}

// TestUpFailsWithKubeAPIServersOwnLine: a kube-apiserver that cannot start (a broken flag
// through kube_extra_args) fails Up with its container named and its own log line.
func TestUpFailsWithKubeAPIServersOwnLine(t *testing.T) {
	requireKubeImages(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	env, err := tfharness.Up(ctx, tfharness.WithAuthBackend(tfharness.AuthKube),
		tfharness.WithVars(map[string]any{"kube_extra_args": []string{"--no-such-flag=1"}}))
	if env != nil {
		t.Cleanup(func() { _ = env.Down(context.Background()) })
	}
	require.Error(t, err)
	t.Logf("Up failed after %.1fs: %v", time.Since(t0).Seconds(), err)
	assert.Contains(t, err.Error(), "kube-apiserver")
	assert.Contains(t, err.Error(), "unknown flag: --no-such-flag", "kube-apiserver's own line")
}
