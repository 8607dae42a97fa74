// Package ginkgo_test is a Ginkgo v2 suite written as kubernaut's services write theirs:
// SynchronizedBeforeSuite brings one environment up on process 1 and hands every
// process its payload (tfharness.Env.Marshal / tfharness.Attach); the specs post audit
// batches as the Gateway does from parallel processes and read them back; the Serial
// specs start from a clean slate with Env.Reset; SynchronizedAfterSuite removes the
// environment on process 1 once every process is done.
//
// `make test` runs it with the Ginkgo CLI in four processes (ginkgo -p --procs 4); plain
// `go test` runs it in one. Process 1 counts the environments labelled with the suite's
// label from a watcher while the suite runs and fails the suite unless it saw exactly one,
// and checks that nothing labelled is left after the teardown.
package ginkgo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

func TestGatewayAuditSuite(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Gateway audit emission (Ginkgo, dsenv)")
}

// Test-run controls set by tests/ginkgo/driver (unset in make test):
//
//	DSENV_GINKGO_LABEL  value of the dsenv.test label of the environment (default: random)
//	DSENV_GINKGO_OUT    directory where process 1 records "up <env> <pid>" and "down <env>"
//	DSENV_GINKGO_HOLD   "1": one spec blocks until interrupted, for the interrupt tests
const testLabel = "dsenv.test"

var (
	env   *tfharness.Env    // every process: attached
	owned *tfharness.Env    // process 1: the owner, torn down in SynchronizedAfterSuite
	suite string            // the dsenv.test label value (process 1)
	seen  *labelled.Watcher // process 1
)

// ginkgoLogger sends the harness's messages to GinkgoWriter (shown with -v or on failure).
type ginkgoLogger struct{}

func (ginkgoLogger) Logf(format string, args ...any) { fmt.Fprintf(GinkgoWriter, format+"\n", args...) }

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	suite = os.Getenv("DSENV_GINKGO_LABEL")
	if suite == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		suite = "ginkgo-" + hex.EncodeToString(b)
	}
	seen = labelled.Watch(testLabel + "=" + suite)
	// Up honours ctx: an interrupt or the node timeout cancels it and it removes what it
	// made. Under Ginkgo the harness installs no signal handler of its own.
	e, err := tfharness.Up(ctx, tfharness.WithLabels(map[string]string{testLabel: suite}), tfharness.WithLogger(ginkgoLogger{}))
	Expect(err).NotTo(HaveOccurred())
	owned = e
	record("up %s %d", e.ID, os.Getpid())
	p, err := e.Marshal()
	Expect(err).NotTo(HaveOccurred())
	return p
}, func(p []byte) {
	var err error
	env, err = tfharness.Attach(p, tfharness.WithLogger(ginkgoLogger{}))
	Expect(err).NotTo(HaveOccurred())
	Expect(env.Attached()).To(BeTrue())
}, NodeTimeout(5*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	if owned == nil {
		return // Up failed or was interrupted: it removed what it made
	}
	Expect(owned.Down(ctx)).To(Succeed())
	record("down %s", owned.ID)
	Eventually(func() ([]string, error) { return labelledObjects(ctx, testLabel+"="+suite) }).
		WithContext(ctx).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).
		Should(BeEmpty(), "objects labelled %s=%s left after the teardown", testLabel, suite)
	ids, maxLive, polls := seen.Result()
	fmt.Fprintf(GinkgoWriter, "watcher: %d polls, environments %v, at most %d at once\n", polls, ids, maxLive)
	Expect(ids).To(HaveLen(1), "environments seen while the suite ran")
	Expect(maxLive).To(Equal(1))
}, NodeTimeout(3*time.Minute))

// record appends a line to $DSENV_GINKGO_OUT/process1 (for the driver tests).
func record(format string, args ...any) {
	dir := os.Getenv("DSENV_GINKGO_OUT")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "process1"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	fmt.Fprintf(f, format+"\n", args...)
}

// recordSpec appends the running spec's name to $DSENV_GINKGO_OUT/specs-<process>.
func recordSpec() {
	dir := os.Getenv("DSENV_GINKGO_OUT")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("specs-%d", GinkgoParallelProcess())), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	fmt.Fprintln(f, CurrentSpecReport().FullText())
}

// labelledObjects lists containers, networks and volumes with the label filter, with the
// docker CLI: an independent check of what the harness removed through the API.
func labelledObjects(ctx context.Context, filter string) ([]string, error) {
	var out []string
	for _, args := range [][]string{
		{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + filter},
		{"network", "ls", "--format", "{{.Name}}", "--filter", "label=" + filter},
		{"volume", "ls", "--format", "{{.Name}}", "--filter", "label=" + filter},
	} {
		b, err := exec.CommandContext(ctx, "docker", args...).Output()
		if err != nil {
			return nil, fmt.Errorf("docker %s: %w", strings.Join(args, " "), err)
		}
		out = append(out, strings.Fields(string(b))...)
	}
	return out, nil
}
