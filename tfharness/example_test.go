package tfharness_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/dsenv/dsenv/tfharness"
)

// A test gets its own environment; t.Cleanup removes it.
func ExampleNew() {
	var t *testing.T // the test's t

	env := tfharness.New(t, tfharness.WithLogLevel("debug"))
	req, _ := http.NewRequest(http.MethodGet, env.DataStorage.URL+"/api/v1/audit/events?correlation_id=rr-1", nil)
	req.Header.Set("Authorization", "Bearer "+env.Token)
	_ = env.Postgres.DSN // postgres://datastorage:...@127.0.0.1:<port>/datastorage?sslmode=disable
	_ = env.Redis.Addr   // 127.0.0.1:<port>
}

// Suites that share one environment bring it up in TestMain (or Ginkgo's BeforeSuite).
func ExampleUp() {
	var m *testing.M // TestMain's m

	env, err := tfharness.Up(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // names the environment and the step that failed
		os.Exit(1)
	}
	code := m.Run()
	if code != 0 {
		env.DumpLogs(context.Background(), "tests failed")
	}
	_ = env.Down(context.Background())
	os.Exit(code)
}
