// Package shared tests terraform/envs/shared, the persistent shared environment, the way a
// team runs it: its state in Terraform's pg backend (a PostgreSQL container of the test's
// own), applied from the code as it was before modules/stack and moved over, reviewed from
// fresh checkouts with a read-only database role, relabelled, swept, backed up and restored.
//
// Every Docker object of the test carries the label dsenv.test=<its prefix>, and every
// sweep it runs is restricted to that label (dsenv sweep --label): other engineers' and
// users' environments on the same engine are never looked at. Everything is removed in
// t.Cleanup.
package shared

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/planreview"
	"github.com/dsenv/dsenv/tests/internal/labelled"
)

const (
	events      = 1000
	queued      = 10
	batchSize   = 100
	markerKey   = "dsenv:test:pending-marker"
	dlqStream   = "audit:dlq:events" // the DS's dead-letter queue (DS contract)
	dsContainer = "module.stack.module.datastorage.docker_container.this"
	// kubeAuthContainer is the auth stand-in, added to the stack after the move.
	kubeAuthContainer = "module.stack.module.kube_auth[0].docker_container.this"
)

func TestSharedEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("applies real environments")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	prefix := "dsenv-shtest-" + randomHex(t, 3)
	pinned := pinImages(ctx, t, prefix)
	testLabel := "dsenv.test=" + prefix
	// Whatever happens, nothing of the test stays: labelled containers, volumes (the
	// protected ones too) and networks of both environments and the state database.
	t.Cleanup(func() { labelled.Remove(t, testLabel) })
	dsenv := buildDsenv(ctx, t)
	db := startStateDB(ctx, t, prefix, testLabel, pinned["postgres"])
	v := newVars(t, prefix, testLabel, pinned)

	// The environment as it was applied before modules/stack: the old code, state in pg.
	old := newCheckout(ctx, t, "envs/before-stack", db.ownerEnv(""))
	old.apply(ctx, v.file)
	out := old.outputs(ctx)
	correlation := "shared-" + prefix
	writeEvents(ctx, t, out.url, out.token, correlation, events)
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Fatalf("after writing: %d rows, want %d", n, events)
	}
	rdb := redis.NewClient(&redis.Options{Addr: out.redisAddr, Password: out.redisPassword})
	defer rdb.Close()
	if err := rdb.Set(ctx, markerKey, correlation, 0).Err(); err != nil {
		t.Fatalf("redis SET: %v", err)
	}
	db.createPlanner(ctx, t)

	// Must show 5: the current code, in a fresh checkout, on the old state: the moved blocks
	// carry every object over. Nothing is destroyed; nothing holding data (volumes, Postgres,
	// Redis), the network or the migration job changes. What came after the move does show,
	// and nothing else: the auth stand-in every environment now runs is created, and the DS
	// container is replaced to reach it (its kubeconfig, KUBECONFIG and POD_NAMESPACE).
	team := newCheckout(ctx, t, "envs/shared", db.ownerEnv(""))
	r := team.plan(ctx, v.file)
	t.Logf("plan of the current code on the old environment's state:\n%s", r.Text)
	moved := 0
	for _, rc := range r.Plan.ResourceChanges {
		if rc.PreviousAddress != "" {
			moved++
		}
	}
	if r.Summary.Counts[planreview.Destroy] != 0 {
		t.Fatalf("after the move: want 0 to destroy; got %s", planreview.Verdict(r.Summary))
	}
	for _, c := range r.Summary.Changes {
		switch {
		case c.Address == kubeAuthContainer && c.Kind == planreview.Create:
		case c.Address == dsContainer && c.Kind == planreview.Replace && onlyStandInWiring(c.ReplacePaths):
		default:
			t.Errorf("after the move: unexpected %s of %s (forced by %v): only the stand-in's creation and the DS's replacement to reach it may show", c.Kind, c.Address, c.ReplacePaths)
		}
		if c.DataLoss != "" {
			t.Errorf("after the move: %s loses data: %s", c.Address, c.DataLoss)
		}
	}
	// The review lists the four that only move, and the DS's replacement as moved from its
	// old address.
	movedChanges := 0
	for _, c := range r.Summary.Changes {
		if c.MovedFrom != "" {
			movedChanges++
		}
	}
	if moved != 5 || len(r.Summary.Moved)+movedChanges != 5 || !strings.Contains(r.Text, "moved from module.datastorage.docker_container.this") {
		t.Errorf("%d resources moved (%d in the review), want 5 (network, postgres, redis, migrate, datastorage):\n%s", moved, len(r.Summary.Moved)+movedChanges, r.Text)
	}
	if !strings.Contains(r.Summary.Baseline, "live state in the `pg` backend (7 resources)") {
		t.Errorf("the review must say it compared against the live pg state; it says %q", r.Summary.Baseline)
	}
	team.apply(ctx, v.file)
	if r := team.plan(ctx, v.file); r.HasChanges {
		t.Fatalf("the plan after the move's apply is not empty: %s\n%s", planreview.Verdict(r.Summary), r.Text)
	}

	// Must show 1: a pull request's code reviewed from a fresh checkout (as CI has it), with a
	// role that can only read the state: a DS log level change is the replacement of the DS
	// container and nothing else.
	ci := newCheckout(ctx, t, "envs/shared", db.plannerEnv(), true)
	v.set("log_level", "debug")
	review := ci.review(ctx, t, dsenv, v)
	t.Logf("review of the log level change (from the CI checkout, read-only role):\n%s", review.markdown)
	if s := review.summary; len(s.Changes) != 1 || s.Changes[0].Address != dsContainer ||
		(s.Changes[0].Kind != planreview.Replace && s.Changes[0].Kind != planreview.Update) {
		t.Fatalf("want exactly one change, of %s; got %s", dsContainer, planreview.Verdict(review.summary))
	}
	if loss := review.summary.DataLoss(); len(loss) > 0 {
		t.Errorf("a DS change must not destroy data; the review warns about %v", loss[0].Address)
	}
	for _, want := range []string{"-   level: info\n+   level: debug", "| replace | `" + dsContainer + "` | forced by", "live state in the `pg` backend"} {
		if !strings.Contains(review.markdown, want) {
			t.Errorf("the review does not show %q:\n%s", want, review.markdown)
		}
	}
	// Must show 3 (the plan side): what dsenv plan wrote in the checkout is private.
	t.Logf("files in the CI checkout after dsenv plan: %v", checkModes(t, ci.root, func(rel string) bool {
		// What terraform and dsenv wrote: .terraform/ (not the provider binaries), state, plans.
		return (strings.HasPrefix(rel, ".terraform/") && !strings.HasPrefix(rel, ".terraform/providers/")) ||
			strings.Contains(rel, "tfstate") || strings.HasSuffix(rel, ".tfplan")
	}))
	if _, err := os.Stat(filepath.Join(team.root, "terraform.tfstate")); err == nil {
		t.Errorf("the shared environment's state must live in the backend, not in %s", team.root)
	}

	// A change that destroys a data volume: Redis loses its volume (the resource and its
	// prevent_destroy removed, Redis no longer durable). The review warns, loudly.
	ci.edit(t, "main.tf", func(s string) string {
		i := strings.Index(s, `resource "docker_volume" "redis_data"`)
		j := strings.Index(s[i:], "\n}\n")
		s = s[:i] + s[i+j+3:]
		s = strings.Replace(s, "  redis_durable        = true\n", "  redis_durable        = false\n", 1)
		return strings.Replace(s, "redis_volume_name    = docker_volume.redis_data.name", `redis_volume_name    = ""`, 1)
	})
	ci.edit(t, "outputs-shared.tf", func(s string) string {
		return strings.Replace(s, "redis    = docker_volume.redis_data.name", `redis    = ""`, 1)
	})
	v.set("log_level", "info")
	loss := ci.review(ctx, t, dsenv, v)
	t.Logf("review of the change that drops Redis' volume:\n%s", firstLines(loss.markdown, 16))
	if !strings.Contains(loss.markdown, "**This plan destroys data.**") || !strings.Contains(loss.markdown, "`docker_volume.redis_data` (destroy)") {
		t.Errorf("the review must warn that docker_volume.redis_data is destroyed:\n%s", loss.markdown)
	}
	if !strings.Contains(loss.text, "Redis container is replaced by one without a data volume") {
		t.Errorf("the review must warn that Redis is replaced without a durable volume:\n%s", loss.text)
	}
	ci.restore(t)

	// With another apply holding the lock, the plan waits for the timeout, then says the
	// state is locked and by whom. The holder is an interactive apply at its prompt.
	holder := team.holdLock(ctx, t, v.file, "alice@build-box: terraform apply")
	start := time.Now()
	_, stderr, code := ci.dsenv(ctx, dsenv, "plan", "--lock-timeout", "3s", "-var-file", v.file, ci.root)
	waited := time.Since(start)
	holder.release()
	t.Logf("dsenv plan against the locked state: exit %d after %.1fs: %s", code, waited.Seconds(), strings.TrimSpace(stderr))
	if code != 1 || !strings.Contains(stderr, "the state is locked by another Terraform run") ||
		!strings.Contains(stderr, `application "alice@build-box: terraform apply"`) {
		t.Errorf("want exit 1 saying the state is locked and by whom; got exit %d: %s", code, stderr)
	}
	if waited < 3*time.Second {
		t.Errorf("the plan gave up after %s, before its 3s lock timeout", waited)
	}

	// Must show 4: labels and owner change on the running environment: no volume is
	// replaced (or touched), the apply succeeds, the rows and the Redis data are still there.
	host, _ := os.Hostname()
	v.set("labels", map[string]string{strings.SplitN(testLabel, "=", 2)[0]: prefix, "team": "gateway"})
	v.set("owner", "manual@"+sanitize(host)+"-2")
	r = team.plan(ctx, v.file)
	t.Logf("plan of the labels and owner change: %s", planreview.Verdict(r.Summary))
	for _, c := range r.Summary.Changes {
		if c.Type == "docker_volume" {
			t.Errorf("a labels change must not touch a volume: %s %s", c.Kind, c.Address)
		}
	}
	if len(r.Summary.DataLoss()) > 0 {
		t.Errorf("a labels change must not lose data: %v", r.Summary.DataLoss()[0].Address)
	}
	team.apply(ctx, v.file)
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after the labels change: %d rows, want %d", n, events)
	}
	if got, err := rdb.Get(ctx, markerKey).Result(); err != nil || got != correlation {
		t.Errorf("after the labels change (Redis replaced): GET %s = %q, %v; want %q", markerKey, got, err, correlation)
	}
	if total := apiTotal(ctx, t, out.url, out.token, correlation); total != events {
		t.Errorf("after the labels change: the API reports %d events, want %d", total, events)
	}

	// dsenv plan on the unchanged environment: "No changes", exit 0; after the DS container
	// is removed by hand it shows the re-creation, exit 2.
	stdout, _, code := team.dsenv(ctx, dsenv, "plan", "--detailed-exitcode", "--plugin-dir", team.mirror, "-var-file", v.file, team.root)
	if code != 0 || !strings.Contains(stdout, "No changes") {
		t.Errorf("dsenv plan on an unchanged environment: exit %d, output:\n%s\nwant exit 0 and No changes", code, stdout)
	}
	if out, err := exec.CommandContext(ctx, "docker", "rm", "-f", prefix+"-datastorage").CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v: %s", err, out)
	}
	stdout, _, code = team.dsenv(ctx, dsenv, "plan", "--detailed-exitcode", "--plugin-dir", team.mirror, "-var-file", v.file, team.root)
	if code != 2 || !strings.Contains(stdout, dsContainer+" was deleted") {
		t.Errorf("dsenv plan after docker rm -f: exit %d, output:\n%s\nwant exit 2 and the deleted %s", code, stdout, dsContainer)
	}
	team.apply(ctx, v.file) // put it back

	// Must show 2: dsenv sweep --all next to the running environment (restricted to this
	// test's objects): containers and network go, the volumes stay and the sweep says so;
	// an apply brings the environment back on them with every row.
	stdout, stderr, code = team.dsenv(ctx, dsenv, "sweep", "--all", "--label", testLabel)
	t.Logf("dsenv sweep --all --label %s: exit %d\n%s%s", testLabel, code, stdout, stderr)
	volumes := []string{"volume/" + prefix + "-postgres-data", "volume/" + prefix + "-redis-data"}
	if code != 0 || !strings.Contains(stdout, "kept of "+prefix+" (data of a persistent environment: --volumes removes it): "+strings.Join(volumes, " ")) {
		t.Errorf("sweep --all must say it kept %v; exit %d:\n%s%s", volumes, code, stdout, stderr)
	}
	for _, vol := range volumes {
		if exec.CommandContext(ctx, "docker", "volume", "inspect", strings.TrimPrefix(vol, "volume/")).Run() != nil {
			t.Errorf("sweep --all removed %s", vol)
		}
	}
	if running := labelled.Running(t, ctx, "dsenv.env="+prefix); len(running) > 0 {
		t.Errorf("sweep --all left containers running: %v", running)
	}
	team.apply(ctx, v.file)
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after sweep --all and a new apply: %d rows, want %d", n, events)
	}

	// terraform destroy refuses (prevent_destroy) and destroys nothing.
	err := team.tf.Destroy(ctx, tfexec.VarFile(v.file))
	if err == nil || !strings.Contains(err.Error(), "prevent_destroy") {
		t.Fatalf("terraform destroy: err = %v, want a prevent_destroy refusal", err)
	}
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after the refused destroy: %d rows, want %d", n, events)
	}

	// Must show 6: backup of the environment holding 1,000 events and 10 queued messages,
	// restore into a new one: the same rows, the same messages.
	backupAndRestore(ctx, t, dsenv, db, team, prefix, testLabel, correlation, out, pinned)

	// Must show 2, the end: --env of the persistent environment needs --force; --volumes is
	// what removes its data.
	stdout, stderr, code = team.dsenv(ctx, dsenv, "sweep", "--env", prefix, "--label", testLabel)
	if code != 1 || !strings.Contains(stderr, prefix+" is a persistent environment") || !strings.Contains(stderr, "nothing removed") {
		t.Errorf("sweep --env %s without --force: exit %d, %s%s; want exit 1, refused", prefix, code, stdout, stderr)
	}
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after the refused sweep: %d rows, want %d", n, events)
	}
	stdout, stderr, code = team.dsenv(ctx, dsenv, "sweep", "--env", prefix, "--force", "--volumes", "--label", testLabel)
	t.Logf("dsenv sweep --env %s --force --volumes: exit %d\n%s%s", prefix, code, stdout, stderr)
	if code != 0 || !strings.Contains(stdout, strings.Join(volumes, " ")) {
		t.Errorf("sweep --force --volumes must remove %v: exit %d\n%s%s", volumes, code, stdout, stderr)
	}
	if left := labelled.Objects(t, ctx, "dsenv.env="+prefix); len(left) > 0 {
		t.Errorf("left after sweep --env --force --volumes: %v", left)
	}
}

// backupAndRestore: 10 messages queued while the DS is stopped (so they stay queued), dsenv
// backup, a new environment, dsenv restore --keep-stopped, then every row and message is
// compared; started again, the new DS delivers the 10 restored messages.
func backupAndRestore(ctx context.Context, t *testing.T, dsenv string, db *stateDB, team *checkout, prefix, testLabel, correlation string, out outputs, pinned map[string]string) {
	t.Helper()
	if b, err := exec.CommandContext(ctx, "docker", "stop", prefix+"-datastorage").CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v: %s", err, b)
	}
	rdb := redis.NewClient(&redis.Options{Addr: out.redisAddr, Password: out.redisPassword})
	defer rdb.Close()
	dlqCorrelation := "dlq-" + prefix
	for i := 0; i < queued; i++ {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlqStream, Values: []string{"message", dlqMessage(t, dlqCorrelation, i)}}).Err(); err != nil {
			t.Fatalf("XADD: %v", err)
		}
	}
	before := xrange(ctx, t, rdb)
	if len(before) != queued {
		t.Fatalf("%d messages queued, want %d", len(before), queued)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	stdout, stderr, code := team.dsenv(ctx, dsenv, "backup", "--env", prefix, dir)
	t.Logf("dsenv backup: exit %d\n%s%s", code, stdout, stderr)
	if code != 0 {
		t.Fatalf("dsenv backup failed")
	}
	var m struct {
		Postgres struct {
			Rows map[string]int64
		}
		Redis struct {
			Streams map[string]int64
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Postgres.Rows["public.audit_events"] != events || m.Redis.Streams[dlqStream] != queued {
		t.Errorf("manifest: %d audit_events rows, %d queued; want %d and %d", m.Postgres.Rows["public.audit_events"], m.Redis.Streams[dlqStream], events, queued)
	}
	t.Logf("backup files: %v", checkModes(t, dir, func(string) bool { return true }))
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("backup directory: %v, mode %v; want 0700", err, st.Mode().Perm())
	}

	// A fresh shared environment (its own state in the same backend, another schema).
	prefix2 := prefix + "-r"
	v2 := newVars(t, prefix2, testLabel, pinned)
	fresh := newCheckout(ctx, t, "envs/shared", db.ownerEnv("restore"))
	fresh.apply(ctx, v2.file)
	out2 := fresh.outputs(ctx)
	stdout, stderr, code = fresh.dsenv(ctx, dsenv, "restore", "--env", prefix2, "--keep-stopped", dir)
	t.Logf("dsenv restore --env %s --keep-stopped: exit %d\n%s%s", prefix2, code, stdout, stderr)
	if code != 0 {
		t.Fatalf("dsenv restore failed")
	}
	if n := countRows(ctx, t, out2.dsn, correlation); n != events {
		t.Errorf("restored: %d rows, want %d", n, events)
	}
	if a, b := rowsDigest(ctx, t, out.dsn), rowsDigest(ctx, t, out2.dsn); a != b {
		t.Errorf("the restored rows differ from the backed-up ones (md5 of every row: %s, restored %s)", a, b)
	}
	rdb2 := redis.NewClient(&redis.Options{Addr: out2.redisAddr, Password: out2.redisPassword})
	defer rdb2.Close()
	after := xrange(ctx, t, rdb2)
	if len(after) != queued {
		t.Fatalf("restored: %d queued messages, want %d", len(after), queued)
	}
	for i := range before {
		if before[i].ID != after[i].ID || before[i].Values["message"] != after[i].Values["message"] {
			t.Errorf("restored message %d: %s %v, want %s %v", i, after[i].ID, after[i].Values, before[i].ID, before[i].Values)
		}
	}
	// The restored queue is a real one: the new DS delivers all 10 into its database.
	if b, err := exec.CommandContext(ctx, "docker", "start", prefix2+"-datastorage").CombinedOutput(); err != nil {
		t.Fatalf("docker start: %v: %s", err, b)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n := countRows(ctx, t, out2.dsn, dlqCorrelation)
		l, _ := rdb2.XLen(ctx, dlqStream).Result()
		if n == queued && l == 0 {
			t.Logf("the new DS delivered the %d restored messages", n)
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the new DS has %d of the %d restored messages in its database, %d still queued", n, queued, l)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if b, err := exec.CommandContext(ctx, "docker", "start", prefix+"-datastorage").CombinedOutput(); err != nil {
		t.Fatalf("docker start: %v: %s", err, b)
	}
	// The fresh environment goes with the test's sweep, volumes included.
	if _, stderr, code := fresh.dsenv(ctx, dsenv, "sweep", "--env", prefix2, "--force", "--volumes", "--label", testLabel); code != 0 {
		t.Errorf("sweep of the restored environment: %s", stderr)
	}
}

func dlqMessage(t *testing.T, correlation string, i int) string {
	now := time.Now().UTC()
	id := randomHex(t, 16)
	uuid := id[0:8] + "-" + id[8:12] + "-4" + id[13:16] + "-a" + id[17:20] + "-" + id[20:32]
	msg := map[string]any{
		"payload": map[string]any{
			"event_id": uuid, "version": "1.0", "event_type": "gateway.signal.received",
			"event_timestamp": now.Format(time.RFC3339Nano), "event_date": now.Format("2006-01-02"),
			"event_category": "gateway", "event_action": "received", "event_outcome": "success",
			"actor_type": "service", "resource_type": "signal", "resource_id": fmt.Sprintf("queued-%02d", i),
			"correlation_id": correlation, "event_data": map[string]any{"event_type": "gateway.signal.received"},
			"retention_days": 90,
		},
		"timestamp":   now.Format(time.RFC3339Nano),
		"retry_count": 0,
	}
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func xrange(ctx context.Context, t *testing.T, rdb *redis.Client) []redis.XMessage {
	t.Helper()
	msgs, err := rdb.XRange(ctx, dlqStream, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE: %v", err)
	}
	return msgs
}

// rowsDigest is an md5 over every audit_events row, in id order.
func rowsDigest(ctx context.Context, t *testing.T, dsn string) string {
	t.Helper()
	var conn = connect(ctx, t, dsn)
	defer conn.Close(ctx)
	var d string
	if err := conn.QueryRow(ctx, `SELECT md5(string_agg(e::text, '|' ORDER BY e.event_id)) FROM audit_events e`).Scan(&d); err != nil {
		t.Fatalf("digest: %v", err)
	}
	return d
}

// reviewed is one dsenv plan run: its markdown, its text and the plan summarised.
type reviewed struct {
	markdown, text string
	summary        planreview.Summary
}

// review runs dsenv plan as CI does (markdown to a file, the plan JSON beside it) and
// checks that no secret value appears in what it prints.
func (c *checkout) review(ctx context.Context, t *testing.T, dsenv string, v *vars) reviewed {
	t.Helper()
	dir := t.TempDir()
	md, js := filepath.Join(dir, "plan.md"), filepath.Join(dir, "plan.json")
	_, stderr, code := c.dsenv(ctx, dsenv, "plan", "--markdown", "--detailed-exitcode", "--plugin-dir", c.mirror,
		"--out", md, "--json", js, "-var-file", v.file, c.root)
	if code == 1 {
		t.Fatalf("dsenv plan failed: %s", stderr)
	}
	mdb, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(js); st.Mode().Perm() != 0o600 {
		t.Errorf("plan JSON %s is mode %04o, want 0600", js, st.Mode().Perm())
	}
	var p tfjson.Plan
	if err := json.Unmarshal(jb, &p); err != nil {
		t.Fatal(err)
	}
	s := planreview.Summarize(&p)
	for _, secret := range v.secrets() {
		if strings.Contains(string(mdb), secret) || strings.Contains(stderr, secret) {
			t.Errorf("dsenv plan printed a secret value")
		}
	}
	return reviewed{markdown: string(mdb), text: planreview.RenderText(s), summary: s}
}

// edit rewrites one file of the checkout's root; restore puts every edited file back.
func (c *checkout) edit(t *testing.T, name string, f func(string) string) {
	t.Helper()
	p := filepath.Join(c.root, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".orig", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(f(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *checkout) restore(t *testing.T) {
	t.Helper()
	origs, _ := filepath.Glob(filepath.Join(c.root, "*.orig"))
	for _, o := range origs {
		if err := os.Rename(o, strings.TrimSuffix(o, ".orig")); err != nil {
			t.Fatal(err)
		}
	}
}

// lockHolder is an interactive terraform apply stopped at its "Enter a value" prompt: it
// holds the state lock until release answers "no".
type lockHolder struct {
	t     *testing.T
	stdin io.WriteCloser
	done  chan error
}

func (c *checkout) holdLock(ctx context.Context, t *testing.T, varsFile, who string) *lockHolder {
	t.Helper()
	cmd := exec.CommandContext(ctx, c.execPath, "apply", "-no-color", "-var-file", varsFile, "-var", "log_level=warn")
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "PGAPPNAME="+who, "TF_IN_AUTOMATION=1")
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &lockHolder{t: t, stdin: stdin, done: make(chan error, 1)}
	go func() { h.done <- cmd.Wait(); pw.Close() }()
	prompt := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Split(bufio.ScanWords)
		found := false
		for sc.Scan() {
			if !found && sc.Text() == "value:" {
				found = true
				prompt <- true
			}
		}
		if !found {
			prompt <- false
		}
	}()
	select {
	case ok := <-prompt:
		if !ok {
			t.Fatalf("the interactive apply ended before its prompt: %v", <-h.done)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("the interactive apply never reached its prompt")
	}
	return h
}

func (h *lockHolder) release() {
	h.t.Helper()
	fmt.Fprintln(h.stdin, "no")
	h.stdin.Close()
	err := <-h.done
	if err == nil {
		h.t.Errorf("the lock holder's apply was cancelled, it should exit non-zero")
	}
}

// onlyStandInWiring reports whether a DS replacement is forced only by what wires it to
// the auth stand-in: its environment (KUBECONFIG, POD_NAMESPACE), its uploads (the
// kubeconfig, the signing pair) and its labels (the stand-in's trigger).
func onlyStandInWiring(paths []string) bool {
	for _, p := range paths {
		if top, _, _ := strings.Cut(strings.SplitN(p, "[", 2)[0], "."); top != "env" && top != "labels" && top != "upload" {
			return false
		}
	}
	return len(paths) > 0
}
