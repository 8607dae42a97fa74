// Command bench starts the same DS stack (network, Postgres, migrate job, Redis, DS) four
// ways with the same local images — dsenv (tfharness), docker compose, testcontainers-go and
// plain parallel `docker run`s (the floor) — interleaved, and writes a markdown table and a
// chart. `make bench` runs it; see README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dsenv/dsenv/internal/setup"
	"github.com/dsenv/dsenv/tfharness"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Stack is one way of starting the environment.
type Stack interface {
	Name() string
	Short() string // two letters, part of environment ids
	// Up starts the environment described by s. On error the returned Env (possibly nil)
	// is still torn down.
	Up(ctx context.Context, s *Spec) (Env, error)
}

// Env is a started environment.
type Env interface {
	HealthURL() string // DS /readyz on the host
	Down(ctx context.Context) error
	Phases() []Phase // the tool's own per-phase timings, if it has any
}

// Phase is one named step of a tool's start or teardown.
type Phase struct {
	Name string
	D    time.Duration
}

// Sample is one measurement: k environments of one stack started at once and torn down.
type Sample struct {
	Stack    string
	Round    int
	Envs     int
	Up       time.Duration    // until every environment's /readyz answered 200
	Down     time.Duration    // until every environment was torn down
	Mem      int64            // sum of the containers' peak memory, bytes
	MemBy    map[string]int64 // peak memory of the auth containers (etcd, kube-apiserver, kube-auth), bytes
	CPU      time.Duration    // user+sys CPU of this process and its children (terraform, the provider, docker CLIs) over up and down
	Left     int              // labelled objects left after Down (must be 0)
	Phases   []Phase          // first environment's, when the tool reports them
	Timeline []Event          // first environment's containers, from docker inspect
	Err      string
	Warmup   bool
	Started  time.Time
	Baseline bool
}

func main() {
	var (
		rounds     = flag.Int("rounds", 5, "interleaved rounds with one environment")
		budget     = flag.Duration("budget", 12*time.Minute, "start no new round after this long (a round always completes)")
		concRounds = flag.Int("conc-rounds", 1, "interleaved rounds at each concurrency level")
		conc       = flag.String("conc", "2,4", "concurrency levels (environments at once), comma separated; empty for none")
		concStacks = flag.String("conc-stacks", "dsenv,dsenv-proposed,compose,testcontainers,floor", "stacks measured at concurrency levels > 1")
		stacksFlag = flag.String("stacks", "dsenv,dsenv-kube,dsenv-proposed,compose,testcontainers,floor", "stacks, in interleaving order (dsenv-kube: the real Kubernetes API, needs `dsenv setup --with-kube`)")
		warmup     = flag.Bool("warmup", true, "one unrecorded round first")
		outDir     = flag.String("out", "results", "directory for <date>.md, <date>.json")
		committed  = flag.String("committed", "RESULTS.md", "also copy the table here (empty: don't)")
		chart      = flag.String("chart", "chart.png", "PNG chart path (empty: none)")
		health     = flag.Duration("health-interval", 200*time.Millisecond, "Docker healthcheck interval (compose) and poll interval (testcontainers)")
		pgImage    = flag.String("postgres-image", "dsenv/postgres:15", "")
		redisImage = flag.String("redis-image", "dsenv/redis:7", "")
		migImage   = flag.String("migrate-image", "dsenv/migrate:latest", "")
		dsImage    = flag.String("datastorage-image", "dsenv/datastorage:latest", "")
		variants   = flag.String("variants", "variants.json", "JSON file: a list of {name, modules, vars, teardown}, dsenv experiments measured as extra stacks")
		verbose    = flag.Bool("v", false, "log every sample")
		suiteTests = flag.Int("suite-tests", 20, "tests in the suite scenario (each needs a clean DS stack); 0: no suite scenario")
		suiteRnds  = flag.Int("suite-rounds", 2, "interleaved rounds of the suite scenario")
		suiteWaysF = flag.String("suite-ways", strings.Join(suiteWays, ","), "ways of running the suite, in interleaving order")
		suitePool  = flag.Int("suite-pool", 2, "spare environments of the dsenv-pool way (tfharness.WithPool)")
		suiteChart = flag.String("suite-chart", "suite.png", "PNG chart of the suite scenario (empty: none)")
	)
	maybeWatchdog()
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	tclog.SetDefault(tclog.NewNoopLogger())
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		// Inside a container testcontainers-go would dial the default gateway; the
		// engine here publishes ports on this host's loopback, like the other stacks use.
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	runID := randHex(3)
	wd, err := startWatchdog(runID)
	if err != nil {
		fatal(fmt.Errorf("watchdog: %w", err))
	}
	defer wd.Close()
	tmp, err := os.MkdirTemp("", "dsenv-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	// Whatever happens, nothing of this run stays behind.
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := sweep(c, "dsenv.bench", runID); err != nil {
			log.Error("final sweep", "err", err)
		}
	}()

	img, imageIDs, err := snapshotImages(ctx, Images{Postgres: *pgImage, Redis: *redisImage, Migrate: *migImage, DataStorage: *dsImage}, runID)
	if err != nil {
		fatal(err)
	}
	defer untagImages(context.Background(), runID)
	kube := &dsenvStack{name: "dsenv-kube", short: "dk", auth: tfharness.AuthKube, log: log, images: img}
	if slices.Contains(splitList(*stacksFlag), kube.name) || slices.Contains(splitList(*concStacks), kube.name) {
		kubeIDs, err := kubeImages(ctx)
		if err != nil {
			// The stack fails every sample with this (in the report's failures too); the
			// others are still measured.
			kube.err = err
			log.Error("dsenv-kube will fail", "err", err)
		}
		maps.Copy(imageIDs, kubeIDs)
	}
	all := map[string]Stack{
		"dsenv":          &dsenvStack{log: log, images: img},
		"dsenv-kube":     kube,
		"compose":        composeStack{file: abs("compose.yaml"), healthInterval: *health},
		"testcontainers": tcStack{poll: *health / 2},
		"floor":          floorStack{},
	}
	descriptions := map[string]string{}
	if *variants != "" {
		b, err := os.ReadFile(*variants)
		if err != nil {
			fatal(err)
		}
		var vs []variant
		if err := json.Unmarshal(b, &vs); err != nil {
			fatal(fmt.Errorf("%s: %w", *variants, err))
		}
		for i, v := range vs {
			if len(v.Overrides) > 0 {
				if v.Modules != "" {
					fatal(fmt.Errorf("variant %s: modules and overrides exclude each other", v.Name))
				}
				if v.Modules, err = withOverrides(filepath.Join(tmp, "modules-"+v.Name), v.Overrides); err != nil {
					fatal(err)
				}
			}
			descriptions[v.Name] = v.Description
			all[v.Name] = &dsenvStack{name: v.Name, short: fmt.Sprintf("v%d", i+1), modules: v.Modules, vars: v.Vars,
				teardown: tfharness.Teardown(v.Teardown), log: log}
		}
	}
	var stacks []Stack
	for _, n := range splitList(*stacksFlag) {
		s, ok := all[n]
		if !ok {
			fatal(fmt.Errorf("unknown stack %q", n))
		}
		stacks = append(stacks, s)
	}
	var levels []int
	for _, l := range splitList(*conc) {
		var k int
		if _, err := fmt.Sscan(l, &k); err != nil || k < 1 {
			fatal(fmt.Errorf("bad -conc %q", l))
		}
		levels = append(levels, k)
	}
	concSet := map[string]bool{}
	for _, n := range splitList(*concStacks) {
		concSet[n] = true
	}

	b := &bencher{ctx: ctx, runID: runID, tmp: tmp, img: img, log: log, verbose: *verbose}
	evctx, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	if b.events, err = watchEvents(evctx, runID); err != nil {
		log.Error("docker events: no timelines", "err", err)
	}
	start := time.Now()
	loadStart := loadAvg()
	if *warmup {
		for _, s := range stacks {
			b.measure(s, 0, 1, true)
		}
	}
	over := func() bool {
		if time.Since(start) > *budget {
			log.Warn("time budget spent: no more rounds", "budget", *budget)
			return true
		}
		return false
	}
	for r := 1; r <= *rounds && ctx.Err() == nil && !over(); r++ {
		for _, s := range stacks {
			b.measure(s, r, 1, false)
		}
		log.Info("round done", "round", r, "elapsed", time.Since(start).Round(time.Second))
	}
	for _, k := range levels {
		for r := 1; r <= *concRounds && ctx.Err() == nil && !over(); r++ {
			for _, s := range stacks {
				if concSet[s.Name()] {
					b.measure(s, r, k, false)
				}
			}
		}
		log.Info("concurrency level done", "envs", k, "elapsed", time.Since(start).Round(time.Second))
	}
	var suite []SuiteSample
	if *suiteTests > 0 {
		sr := &suiteRunner{b: b, ds: all["dsenv"].(*dsenvStack), tc: all["testcontainers"].(tcStack),
			cp: all["compose"].(composeStack), tests: *suiteTests, poolSize: *suitePool}
		ways := splitList(*suiteWaysF)
		for _, w := range ways {
			if !slices.Contains(suiteWays, w) {
				fatal(fmt.Errorf("unknown suite way %q (want some of %s)", w, strings.Join(suiteWays, ", ")))
			}
		}
		for r := 1; r <= *suiteRnds && ctx.Err() == nil; r++ {
			for _, w := range ways {
				if ctx.Err() == nil {
					suite = append(suite, sr.run(w, r))
				}
			}
			log.Info("suite round done", "round", r, "elapsed", time.Since(start).Round(time.Second))
		}
	}
	if ctx.Err() != nil {
		log.Error("interrupted: no report")
		return
	}

	rep := Report{Machine: machine(ctx), Start: start, Took: time.Since(start), Samples: b.samples,
		Stacks: names(stacks), Images: imageIDs, Variants: descriptions, HealthInterval: *health, Rounds: *rounds, ConcRounds: *concRounds,
		Suite: suite, SuitePool: *suitePool, LoadStart: loadStart, LoadEnd: loadAvg()}
	md := rep.Markdown()
	fmt.Print(md)
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		fatal(err)
	}
	stamp := start.UTC().Format("2006-01-02T150405Z")
	write(filepath.Join(*outDir, stamp+".md"), md)
	write(filepath.Join(*outDir, stamp+".json"), rep.JSON())
	if *committed != "" {
		write(*committed, md)
	}
	if *chart != "" {
		if err := rep.Chart(*chart); err != nil {
			log.Error("chart", "err", err)
		}
	}
	if *suiteChart != "" && len(suite) > 0 {
		if err := rep.SuiteChart(*suiteChart); err != nil {
			log.Error("suite chart", "err", err)
		}
	}
}

type bencher struct {
	ctx     context.Context
	runID   string
	tmp     string
	img     Images
	log     *slog.Logger
	verbose bool
	events  *events
	samples []Sample
	seq     int
}

// measure starts k environments of stack s at once, waits until all are ready, reads their
// peak memory, tears them down at once and checks nothing labelled is left.
func (b *bencher) measure(s Stack, round, k int, warm bool) {
	smp := Sample{Stack: s.Name(), Round: round, Envs: k, Warmup: warm, Started: time.Now()}
	specs := make([]*Spec, k)
	for i := range specs {
		b.seq++
		id := fmt.Sprintf("bench-%s-%s-%d", s.Short(), b.runID, b.seq)
		sp, err := NewSpec(b.tmp, b.runID, id, b.img)
		if err != nil {
			fatal(err)
		}
		specs[i] = sp
	}
	envs := make([]Env, k)
	errs := make([]error, k)
	cpu0 := cpuTime()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := s.Up(b.ctx, specs[i])
			envs[i] = e
			if err == nil {
				err = waitReady(b.ctx, e.HealthURL(), 90*time.Second)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	smp.Up = time.Since(t0)

	var ids []string
	for _, sp := range specs {
		c, _ := containersByLabel(context.Background(), "dsenv.bench.env", sp.ID)
		ids = append(ids, c...)
	}
	smp.Mem = peakMemory(context.Background(), ids)
	smp.MemBy = peakMemoryByRole(context.Background(), ids, memRoles)
	if tl := b.events.timeline(specs[0].ID, t0); len(tl) > 0 {
		smp.Timeline = append(tl, Event{"ready (host /readyz 200)", smp.Up})
	}
	if envs[0] != nil {
		smp.Phases = envs[0].Phases()
	}

	// Teardown gets a fresh context: it must happen even after Ctrl-C.
	dctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	t1 := time.Now()
	for i := range envs {
		if envs[i] == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := envs[i].Down(dctx); err != nil && errs[i] == nil {
				errs[i] = fmt.Errorf("down: %w", err)
			}
		}()
	}
	wg.Wait()
	smp.Down = time.Since(t1)
	smp.CPU = cpuTime() - cpu0
	if envs[0] != nil {
		smp.Phases = append(smp.Phases, downPhases(envs[0])...)
	}
	for _, sp := range specs {
		n, _ := leftovers(dctx, "dsenv.bench.env", sp.ID)
		smp.Left += n
		if n > 0 {
			_ = sweep(dctx, "dsenv.bench.env", sp.ID)
		}
		os.RemoveAll(sp.Dir)
	}
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	smp.Err = strings.Join(msgs, "; ")
	if smp.Err != "" {
		b.log.Error("sample failed", "stack", s.Name(), "round", round, "envs", k, "err", smp.Err)
	} else if b.verbose || warm {
		b.log.Info("sample", "stack", s.Name(), "round", round, "envs", k, "warmup", warm,
			"up", smp.Up.Round(time.Millisecond), "down", smp.Down.Round(time.Millisecond),
			"mem_mib", smp.Mem>>20, "left", smp.Left)
	}
	if !warm {
		b.samples = append(b.samples, smp)
	}
}

// downPhases returns teardown phases of tools that measure them after Down.
func downPhases(e Env) []Phase {
	if d, ok := e.(interface{ DownPhases() []Phase }); ok {
		return d.DownPhases()
	}
	return nil
}

// snapshotImages tags each image as <its repository>:bench-<runID> and returns the new
// refs: every stack of the run then starts the same image ids, even if `make setup` or a
// test retags or removes the dsenv/* images meanwhile. The repository stays the image's
// own, so dsenv/datastorage is still taken for the reference DS. untagImages removes the
// tags again.
func snapshotImages(ctx context.Context, img Images, runID string) (Images, map[string]string, error) {
	ids := map[string]string{}
	var missing []string
	snap := func(ref string) string {
		id, err := docker(ctx, nil, "image", "inspect", "--format", "{{.Id}}", ref)
		if err != nil {
			missing = append(missing, ref)
			return ref
		}
		repo := ref
		if i := strings.LastIndexAny(repo, ":@"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		tag := repo + ":" + benchTag(runID)
		if _, err := docker(ctx, nil, "tag", id, tag); err != nil {
			missing = append(missing, ref)
			return ref
		}
		ids[ref] = strings.TrimPrefix(id, "sha256:")[:12]
		return tag
	}
	out := Images{Postgres: snap(img.Postgres), Redis: snap(img.Redis), Migrate: snap(img.Migrate),
		DataStorage: snap(img.DataStorage)}
	if len(missing) > 0 {
		untagImages(context.Background(), runID)
		return out, nil, fmt.Errorf("images missing (nothing is pulled; run `make setup`): %s", strings.Join(missing, ", "))
	}
	return out, ids, nil
}

// kubeImages checks that the real Kubernetes API's images exist (the kubeapi module's
// defaults; they are not snapshotted: only dsenv-kube starts them) and returns their ids.
func kubeImages(ctx context.Context) (map[string]string, error) {
	ids := map[string]string{}
	var missing []string
	for _, ref := range []string{setup.EtcdImage, setup.KubeAPIServerImage} {
		id, err := docker(ctx, nil, "image", "inspect", "--format", "{{.Id}}", ref)
		if err != nil {
			missing = append(missing, ref)
			continue
		}
		ids[ref] = strings.TrimPrefix(id, "sha256:")[:12]
	}
	if len(missing) > 0 {
		return ids, fmt.Errorf("image(s) %s missing: the real Kubernetes API is built locally, nothing is pulled; run `dsenv setup --with-kube` (in the repository: make setup SETUPFLAGS=--with-kube), or leave dsenv-kube out of -stacks",
			strings.Join(missing, ", "))
	}
	return ids, nil
}

// benchTag is the tag of the run's image snapshots.
func benchTag(runID string) string { return "bench-" + runID }

// untagImages removes this run's <repository>:bench-<runID> tags (not the images they
// name, which keep their own tags).
func untagImages(ctx context.Context, runID string) {
	out, err := docker(ctx, nil, "images", "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil || out == "" {
		return
	}
	var tags []string
	for _, t := range strings.Fields(out) {
		if strings.HasSuffix(t, ":"+benchTag(runID)) {
			tags = append(tags, t)
		}
	}
	if len(tags) > 0 {
		_, _ = docker(ctx, nil, append([]string{"rmi"}, tags...)...)
	}
}

func names(ss []Stack) []string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name())
	}
	return n
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		fatal(err)
	}
	return a
}

func write(path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

var _ = io.Discard

// cpuTime is the user+sys CPU time of this process and of its waited-for children.
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}
