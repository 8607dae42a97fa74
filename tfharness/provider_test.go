package tfharness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fakeProvider writes a script that behaves like a provider in managed debug mode: it
// prints the reattach line (its own pid inside) and waits to be interrupted.
func fakeProvider(t *testing.T, body string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "terraform-provider-docker")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestStartProviderReadsReattachConfigAndStops(t *testing.T) {
	bin := fakeProvider(t, `echo '{"@level":"debug","@message":"plugin address"}'
echo 'Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:'
echo
printf "\tTF_REATTACH_PROVIDERS='{\"registry.terraform.io/kreuzwerker/docker\":{\"Protocol\":\"grpc\",\"ProtocolVersion\":6,\"Pid\":%d,\"Test\":true,\"Addr\":{\"Network\":\"unix\",\"String\":\"/tmp/plugin-test\"}}}'\n" $$
[ "$DSENV_ENV" = t-provider ] || { echo "marker missing" >&2; exit 3; }
exec sleep 60
`)
	p, err := startProvider(context.Background(), bin, "registry.terraform.io/kreuzwerker/docker",
		map[string]string{"DSENV_ENV": "t-provider", "PATH": os.Getenv("PATH")})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.info["registry.terraform.io/kreuzwerker/docker"]
	if !ok || c.Pid != p.cmd.Process.Pid || c.Addr.String != "/tmp/plugin-test" || c.ProtocolVersion != 6 {
		t.Fatalf("reattach info %+v (pid %d)", p.info, p.cmd.Process.Pid)
	}
	p.stop()
	if err := syscall.Kill(c.Pid, 0); err == nil {
		t.Fatalf("provider %d still running after stop", c.Pid)
	}
}

func TestStartProviderFailsWhenItExitsFirst(t *testing.T) {
	bin := fakeProvider(t, "echo nothing to see\nexit 1\n")
	_, err := startProvider(context.Background(), bin, "registry.terraform.io/kreuzwerker/docker", nil)
	if err == nil || !strings.Contains(err.Error(), "exited before") {
		t.Fatalf("err = %v, want an exit before the reattach config", err)
	}
}
