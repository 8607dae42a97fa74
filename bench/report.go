package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"
)

// Report is one benchmark run.
type Report struct {
	Machine        Machine
	Start          time.Time
	Took           time.Duration
	Stacks         []string
	Samples        []Sample
	Images         map[string]string // image -> id, all stacks started these
	Variants       map[string]string // dsenv experiment -> what it changes
	HealthInterval time.Duration
	Rounds         int
	ConcRounds     int
	Suite          []SuiteSample // the suite scenario (suite.go)
	SuitePool      int
	LoadStart      string // /proc/loadavg when the run started and ended: the machine is shared
	LoadEnd        string
}

// Machine is what the numbers were measured on.
type Machine struct {
	CPU, Kernel, Docker, Terraform, Compose, Testcontainers string
	NProc                                                   int
	MemGiB                                                  float64
}

func machine(ctx context.Context) Machine {
	m := Machine{NProc: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				fmt.Sscan(strings.TrimPrefix(l, "MemTotal:"), &kb)
			}
		}
		m.MemGiB = kb / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.Docker, _ = docker(ctx, nil, "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})")
	m.Terraform = terraformVersion(ctx)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch {
			case strings.HasPrefix(d.Path, "github.com/docker/compose/"):
				m.Compose = "docker compose library " + d.Path + " " + d.Version + ", in process"
			case d.Path == "github.com/testcontainers/testcontainers-go":
				m.Testcontainers = d.Version
			}
		}
	}
	return m
}

// stat is the median, min and max of some durations.
type stat struct {
	Med, Min, Max float64 // seconds (or bytes, or a ratio)
	N             int
}

func stats(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Med: med, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// ok returns the successful samples of stack at k environments.
func (r *Report) ok(stack string, k int) []Sample {
	var out []Sample
	for _, s := range r.Samples {
		if s.Stack == stack && s.Envs == k && s.Err == "" {
			out = append(out, s)
		}
	}
	return out
}

func (r *Report) failed(stack string, k int) int {
	n := 0
	for _, s := range r.Samples {
		if s.Stack == stack && s.Envs == k && s.Err != "" {
			n++
		}
	}
	return n
}

func upDownMem(ss []Sample) (up, down, mem stat) {
	var u, d, m []float64
	for _, s := range ss {
		u = append(u, s.Up.Seconds())
		d = append(d, s.Down.Seconds())
		m = append(m, float64(s.Mem)/(1<<20))
	}
	return stats(u), stats(d), stats(m)
}

// pairedRatio is the median over rounds of base/other, for rounds where both succeeded.
func (r *Report) pairedRatio(base, other string, k int, field func(Sample) time.Duration) stat {
	by := map[int]Sample{}
	for _, s := range r.ok(other, k) {
		by[s.Round] = s
	}
	var v []float64
	for _, b := range r.ok(base, k) {
		if o, ok := by[b.Round]; ok && field(o) > 0 {
			v = append(v, field(b).Seconds()/field(o).Seconds())
		}
	}
	return stats(v)
}

func upField(s Sample) time.Duration   { return s.Up }
func downField(s Sample) time.Duration { return s.Down }

func (r *Report) levels() []int {
	seen := map[int]bool{}
	var ks []int
	for _, s := range r.Samples {
		if !seen[s.Envs] {
			seen[s.Envs] = true
			ks = append(ks, s.Envs)
		}
	}
	sort.Ints(ks)
	return ks
}

func (r *Report) base() string {
	for _, s := range r.Stacks {
		if s == "dsenv" {
			return s
		}
	}
	return r.Stacks[len(r.Stacks)-1]
}

func secs(v float64) string { return fmt.Sprintf("%.2f s", v) }

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	base := r.base()
	fmt.Fprintf(&b, "# dsenv benchmark, %s\n\n", r.Start.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), %.1f GiB RAM, kernel %s, Docker Engine %s, %s.  \n",
		m.NProc, m.CPU, m.MemGiB, m.Kernel, m.Docker, m.Terraform)
	fmt.Fprintf(&b, "Compose: %s. testcontainers-go %s (Ryuk disabled).  \n", m.Compose, m.Testcontainers)
	var imgs []string
	for ref, id := range r.Images {
		imgs = append(imgs, fmt.Sprintf("`%s` (%s)", ref, id))
	}
	sort.Strings(imgs)
	fmt.Fprintf(&b, "Images: %s.  \n", strings.Join(imgs, ", "))
	fmt.Fprintf(&b, "Stack: network, Postgres 15 (tmpfs, fsync off), migrate job, Redis 7, DS; ready = DS `/readyz` 200 from the host. "+
		"Same local images for all. Healthcheck interval %s (compose), poll interval %s (testcontainers-go). "+
		"%d interleaved rounds with one environment, %d at each higher concurrency; run took %s.\n\n",
		r.HealthInterval, r.HealthInterval/2, r.Rounds, r.ConcRounds, r.Took.Round(time.Second))

	if r.LoadStart != "" {
		fmt.Fprintf(&b, "Load: the machine is shared, and other work ran during the run: load average (1, 5, 15 min) %s at the start, %s at the end, on %d CPUs. "+
			"Absolute times are inflated by it; the paired ratios (same round, interleaved) and the client CPU are the figures to compare.\n\n",
			r.LoadStart, r.LoadEnd, m.NProc)
	}
	for _, st := range r.Stacks {
		if d, ok := r.Variants[st]; ok {
			fmt.Fprintf(&b, "**%s** is an experiment, not what dsenv ships: %s\n\n", st, d)
		}
	}
	for _, k := range r.levels() {
		if k == 1 {
			fmt.Fprintf(&b, "## One environment\n\n")
		} else {
			fmt.Fprintf(&b, "## %d environments at once\n\n", k)
		}
		fmt.Fprintf(&b, "Median (min–max). Ratios: %s ÷ this stack, computed per round, median of the ratios (< 1: %s is faster).\n\n", base, base)
		fmt.Fprintf(&b, "| stack | up | down | peak memory | client CPU | %s ÷ this, up | %s ÷ this, down | failed |\n", base, base)
		fmt.Fprintf(&b, "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, st := range r.Stacks {
			ss := r.ok(st, k)
			f := r.failed(st, k)
			if len(ss) == 0 && f == 0 {
				continue
			}
			up, down, mem := upDownMem(ss)
			ru := r.pairedRatio(base, st, k, upField)
			rd := r.pairedRatio(base, st, k, downField)
			ratio := func(s stat) string {
				if st == base {
					return "1"
				}
				if s.N == 0 {
					return "–"
				}
				return fmt.Sprintf("**%.2f** (%.2f–%.2f)", s.Med, s.Min, s.Max)
			}
			var cpu []float64
			for _, s := range ss {
				cpu = append(cpu, s.CPU.Seconds())
			}
			fmt.Fprintf(&b, "| %s | %s (%.2f–%.2f) | %s (%.2f–%.2f) | %.0f MiB | %s | %s | %s | %d/%d |\n",
				st, secs(up.Med), up.Min, up.Max, secs(down.Med), down.Min, down.Max, mem.Med,
				secs(stats(cpu).Med), ratio(ru), ratio(rd), f, f+len(ss))
		}
		b.WriteString("\n")
	}

	if pr := r.ratioTable(); pr != "" {
		fmt.Fprintf(&b, "## Paired ratios (one environment)\n\nEach dsenv stack's time ÷ the peer's, per round, median (min–max) of the ratios: "+
			"the target is up ≤ 1.2 and down ≤ 1.5 against compose.\n\n%s\n", pr)
	}
	if at := r.authTable("dsenv", "dsenv-kube"); at != "" {
		b.WriteString(at)
	}
	if tl := r.timelineTable(); tl != "" {
		fmt.Fprintf(&b, "## Timeline (one environment): seconds after the start, medians, from `docker events`\n\n"+
			"Gaps between one container's readiness and the next one's creation are the tool's own overhead. "+
			"create/start/die are Docker's events; healthy is the first passing Docker healthcheck (stacks that define one).\n\n%s\n", tl)
	}
	if ph := r.phaseTable(base); ph != "" {
		fmt.Fprintf(&b, "## Where %s's time goes (one environment, medians of its own phase timings)\n\n%s\n", base, ph)
	}
	if st := r.suiteTable(); st != "" {
		b.WriteString(st)
	}
	left := 0
	var errs []string
	for _, s := range r.Samples {
		left += s.Left
		if s.Err != "" {
			errs = append(errs, fmt.Sprintf("- %s round %d, %d envs: %s", s.Stack, s.Round, s.Envs, truncate(s.Err, 300)))
		}
	}
	fmt.Fprintf(&b, "Labelled objects left behind after teardown: %d.\n", left)
	if len(errs) > 0 {
		fmt.Fprintf(&b, "\nFailures:\n%s\n", strings.Join(errs, "\n"))
	}
	b.WriteString("\nPeak memory: sum over the environment's containers of the cgroup's peak usage (page cache and tmpfs included), " +
		"read before teardown; the migrate job has exited by then and is not counted. Tool processes (terraform, the provider, compose) are not included. " +
		"Client CPU: user+sys CPU time of the benchmark process and its children (terraform and the provider for dsenv, the docker CLI for the floor; compose and testcontainers-go run in process) from start to torn down, dockerd excluded: on 2 cores it is what limits several environments at once.\n")
	return b.String()
}

// authTable puts the stand-in stack and the real-API stack side by side, round by round
// (they ran in the same interleaved rounds), with the ratio real ÷ stand-in per round and
// the median of those ratios.
func (r *Report) authTable(standin, kube string) string {
	by := map[int]Sample{}
	for _, s := range r.ok(standin, 1) {
		by[s.Round] = s
	}
	type pair struct{ s, k Sample }
	var pairs []pair
	for _, k := range r.ok(kube, 1) {
		if s, ok := by[k.Round]; ok {
			pairs = append(pairs, pair{s, k})
		}
	}
	failed := r.failed(kube, 1)
	if len(pairs) == 0 && failed == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Auth backends: stand-in vs real API (one environment)\n\n"+
		"**%s** answers the DS's TokenReview and SubjectAccessReview calls with the auth stand-in (the default); "+
		"**%s** is the same environment with `tfharness.WithAuthBackend(tfharness.AuthKube)`: etcd and kube-apiserver with RBAC, "+
		"the harness's per-environment TLS material and service-account key, and after the apply its bootstrap "+
		"(kube-apiserver `/readyz`, the namespace, ServiceAccounts, ClusterRole binding, TokenRequest tokens); no stand-in. "+
		"For both, `tfharness.Up` returns only after the DS's `/readyz` and an authenticated DS request answered 2xx "+
		"(through the stand-in, or through kube-apiserver's TokenReview and RBAC), then the host's `/readyz` poll ends up. "+
		"They ran in the same interleaved rounds; ÷ is %s ÷ %s in that round, the last row the medians (of the ratios, for ÷).\n\n",
		standin, kube, kube, standin)
	mib := func(v int64) string { return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20)) }
	if len(pairs) > 0 {
		b.WriteString("| round | up, stand-in | up, real API | ÷ | down, stand-in | down, real API | ÷ | peak memory, stand-in | peak memory, real API | ÷ | etcd | kube-apiserver | client CPU, stand-in | client CPU, real API | ÷ |\n")
		b.WriteString("| --- |" + strings.Repeat(" --- |", 15) + "\n")
	}
	var col [14][]float64
	for _, p := range pairs {
		s, k := p.s, p.k
		v := []float64{s.Up.Seconds(), k.Up.Seconds(), k.Up.Seconds() / s.Up.Seconds(),
			s.Down.Seconds(), k.Down.Seconds(), k.Down.Seconds() / s.Down.Seconds(),
			float64(s.Mem), float64(k.Mem), float64(k.Mem) / float64(s.Mem),
			float64(k.MemBy["etcd"]), float64(k.MemBy["kube-apiserver"]),
			s.CPU.Seconds(), k.CPU.Seconds(), k.CPU.Seconds() / s.CPU.Seconds()}
		for i, x := range v {
			col[i] = append(col[i], x)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | **%.2f** | %s | %s | **%.2f** | %s | %s | **%.2f** | %s | %s | %s | %s | **%.2f** |\n",
			k.Round, secs(v[0]), secs(v[1]), v[2], secs(v[3]), secs(v[4]), v[5],
			mib(s.Mem), mib(k.Mem), v[8], mib(k.MemBy["etcd"]), mib(k.MemBy["kube-apiserver"]),
			secs(v[11]), secs(v[12]), v[13])
	}
	if len(pairs) > 0 {
		m := func(i int) float64 { return stats(col[i]).Med }
		fmt.Fprintf(&b, "| median | %s | %s | **%.2f** | %s | %s | **%.2f** | %s | %s | **%.2f** | %s | %s | %s | %s | **%.2f** |\n",
			secs(m(0)), secs(m(1)), m(2), secs(m(3)), secs(m(4)), m(5),
			mib(int64(m(6))), mib(int64(m(7))), m(8), mib(int64(m(9))), mib(int64(m(10))),
			secs(m(11)), secs(m(12)), m(13))
	}
	var standinMem []float64
	for _, p := range pairs {
		standinMem = append(standinMem, float64(p.s.MemBy["kube-auth"]))
	}
	if len(standinMem) > 0 {
		fmt.Fprintf(&b, "\nThe stand-in's own container: %s peak (median). ", mib(int64(stats(standinMem).Med)))
	}
	fmt.Fprintf(&b, "%s failed %d of %d.\n\n", kube, failed, failed+len(r.ok(kube, 1)))
	if ph := r.phaseTable(kube); ph != "" {
		fmt.Fprintf(&b, "Where %s's time goes (medians of its own phase timings; \"outputs + /readyz\" includes the bootstrap and the authenticated request):\n\n%s\n", kube, ph)
	}
	return b.String()
}

func (r *Report) phaseTable(stack string) string {
	vals := map[string][]float64{}
	var order []string
	for _, s := range r.ok(stack, 1) {
		for _, p := range s.Phases {
			if _, ok := vals[p.Name]; !ok {
				order = append(order, p.Name)
			}
			vals[p.Name] = append(vals[p.Name], p.D.Seconds())
		}
	}
	if len(order) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| phase | median | min–max |\n| --- | --- | --- |\n")
	for _, n := range order {
		st := stats(vals[n])
		fmt.Fprintf(&b, "| %s | %s | %.2f–%.2f |\n", n, secs(st.Med), st.Min, st.Max)
	}
	return b.String()
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// JSON is the raw samples, for later analysis.
func (r *Report) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b) + "\n"
}

func terraformVersion(ctx context.Context) string {
	out, err := runOut(ctx, "terraform", "version")
	if err != nil {
		return "terraform not found"
	}
	first, _, _ := strings.Cut(out, "\n")
	return strings.TrimSpace(first)
}

// timelineTable gives, per stack, the median moment of each container event (one
// environment), seconds after the start of Up.
func (r *Report) timelineTable() string {
	med := map[string]map[string]float64{} // stack -> event -> median
	order := map[string]float64{}          // event -> smallest median, for row order
	for _, st := range r.Stacks {
		vals := map[string][]float64{}
		for _, s := range r.ok(st, 1) {
			for _, e := range s.Timeline {
				vals[e.Name] = append(vals[e.Name], e.At.Seconds())
			}
		}
		med[st] = map[string]float64{}
		for n, v := range vals {
			m := stats(v).Med
			med[st][n] = m
			if o, ok := order[n]; !ok || m < o {
				order[n] = m
			}
		}
	}
	if len(order) == 0 {
		return ""
	}
	rows := make([]string, 0, len(order))
	for n := range order {
		rows = append(rows, n)
	}
	sort.Slice(rows, func(i, j int) bool {
		ri, rj := strings.HasPrefix(rows[i], "ready"), strings.HasPrefix(rows[j], "ready")
		if ri != rj {
			return rj
		}
		return order[rows[i]] < order[rows[j]]
	})
	var b strings.Builder
	b.WriteString("| event |")
	for _, st := range r.Stacks {
		b.WriteString(" " + st + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(r.Stacks)) + "\n")
	for _, n := range rows {
		b.WriteString("| " + n + " |")
		for _, st := range r.Stacks {
			if v, ok := med[st][n]; ok {
				fmt.Fprintf(&b, " %.2f |", v)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ratioTable: rows are the dsenv stacks (dsenv and its experiments), columns the peers.
func (r *Report) ratioTable() string {
	var ds, peers []string
	for _, st := range r.Stacks {
		if strings.HasPrefix(st, "dsenv") {
			ds = append(ds, st)
		} else {
			peers = append(peers, st)
		}
	}
	if len(ds) == 0 || len(peers) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| |")
	for _, p := range peers {
		fmt.Fprintf(&b, " ÷ %s, up | ÷ %s, down |", p, p)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- | --- |", len(peers)) + "\n")
	for _, d := range ds {
		b.WriteString("| " + d + " |")
		for _, p := range peers {
			for _, f := range []func(Sample) time.Duration{upField, downField} {
				s := r.pairedRatio(d, p, 1, f)
				if s.N == 0 {
					b.WriteString(" – |")
				} else {
					fmt.Fprintf(&b, " **%.2f** (%.2f–%.2f) |", s.Med, s.Min, s.Max)
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// suiteWayDescriptions say how each way gets a clean stack per test.
var suiteWayDescriptions = map[string]string{
	"dsenv-pool":              "`tfharness.Up` with `WithPool(%d)` per test (spares applied in the background); after the test its environment is removed in the background, as `tfharness.New` does with a pool; `ClosePools` at the end",
	"dsenv-reset":             "one dsenv environment; before each test `Env.Reset` (tfharness): every migrated table TRUNCATEd and the Redis streams trimmed, the DS's consumer groups kept",
	"testcontainers-fresh":    "a new testcontainers-go stack per test (as the one-environment rows), terminated after it",
	"testcontainers-snapshot": "one testcontainers-go stack, Postgres from its postgres module; `Snapshot` after the migrations (before the DS connects: the template database must have no other sessions), then per test `Restore` (which ends the DS's sessions), a Redis `FLUSHALL` and the DS's `/readyz` again",
	"compose-fresh":           "a new compose stack per test, `down` after it",
}

func (r *Report) suiteOK(way string) []SuiteSample {
	var out []SuiteSample
	for _, s := range r.Suite {
		if s.Way == way && s.Failed == 0 {
			out = append(out, s)
		}
	}
	return out
}

// suiteWaysRun lists the ways present, in interleaving order.
func (r *Report) suiteWaysRun() []string {
	var ways []string
	for _, s := range r.Suite {
		if !slices.Contains(ways, s.Way) {
			ways = append(ways, s.Way)
		}
	}
	return ways
}

// suitePaired is the median over rounds of way's suite time ÷ other's.
func (r *Report) suitePaired(way, other string) stat {
	by := map[int]SuiteSample{}
	for _, s := range r.suiteOK(other) {
		by[s.Round] = s
	}
	var v []float64
	for _, s := range r.suiteOK(way) {
		if o, ok := by[s.Round]; ok && o.Suite > 0 {
			v = append(v, s.Suite.Seconds()/o.Suite.Seconds())
		}
	}
	return stats(v)
}

func (r *Report) suiteTable() string {
	if len(r.Suite) == 0 {
		return ""
	}
	var b strings.Builder
	ways := r.suiteWaysRun()
	rounds, tests := 0, 0
	for _, s := range r.Suite {
		rounds, tests = max(rounds, s.Round), s.Tests
	}
	fmt.Fprintf(&b, "## A suite of %d tests, each needing a clean DS stack\n\n", tests)
	fmt.Fprintf(&b, "The tests run one after the other; each gets a clean stack (the way's own), posts a Gateway batch "+
		"of 3 events (201) and reads back exactly those (which fails on a stack that is not clean). "+
		"Wait: from the test's start until its clean stack answered `/readyz`. Suite: from the first test's start until "+
		"everything of the suite was removed (a shared stack's setup and teardown and the pool's drain included). "+
		"%d interleaved round(s); per-test waits pooled over them. Ratios are paired by round.\n\n", rounds)
	for _, w := range ways {
		d := suiteWayDescriptions[w]
		if strings.Contains(d, "%d") {
			d = fmt.Sprintf(d, r.SuitePool)
		}
		fmt.Fprintf(&b, "- **%s**: %s\n", w, d)
	}
	b.WriteString("\n| way | suite | per-test wait, median | per-test wait, p95 | client CPU per suite | ÷ testcontainers-fresh | ÷ testcontainers-snapshot | failed tests |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, w := range ways {
		ok := r.suiteOK(w)
		var suites, cpus []float64
		var waits []time.Duration
		failed, total := 0, 0
		for _, s := range r.Suite {
			if s.Way == w {
				failed += s.Failed
				total += s.Tests
			}
		}
		for _, s := range ok {
			suites = append(suites, s.Suite.Seconds())
			cpus = append(cpus, s.CPU.Seconds())
			waits = append(waits, s.Waits...)
		}
		st := stats(suites)
		ratio := func(other string) string {
			if other == w {
				return "1"
			}
			p := r.suitePaired(w, other)
			if p.N == 0 {
				return "–"
			}
			if p.N == 1 {
				return fmt.Sprintf("**%.2f**", p.Med)
			}
			return fmt.Sprintf("**%.2f** (%.2f–%.2f)", p.Med, p.Min, p.Max)
		}
		suite := "–"
		if st.N > 0 {
			suite = secs(st.Med)
			if st.N > 1 {
				suite += fmt.Sprintf(" (%.2f–%.2f)", st.Min, st.Max)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d/%d |\n", w, suite,
			fmtWait(median(waits)), fmtWait(quantile(waits, 0.95)), secs(stats(cpus).Med),
			ratio("testcontainers-fresh"), ratio("testcontainers-snapshot"), failed, total)
	}
	var errs []string
	left := 0
	for _, s := range r.Suite {
		left += s.Left
		if s.Err != "" {
			errs = append(errs, fmt.Sprintf("- %s round %d: %d failed; first: %s", s.Way, s.Round, s.Failed, truncate(s.Err, 300)))
		}
	}
	fmt.Fprintf(&b, "\nLabelled objects left after the suites: %d.\n", left)
	if len(errs) > 0 {
		fmt.Fprintf(&b, "\nSuite failures:\n%s\n", strings.Join(errs, "\n"))
	}
	b.WriteString("\n![suite of tests, each needing a clean stack](suite.png)\n\n")
	return b.String()
}

func fmtWait(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	if d < time.Second {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return secs(d.Seconds())
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}
