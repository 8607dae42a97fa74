package tfharness

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/tfbin"
)

// Option configures an environment. Options are small types in the style of
// terraform-exec's; build them with the With... functions.
type Option interface {
	apply(*config)
}

// Logger receives the harness's progress and diagnostics. testing.TB satisfies it.
type Logger interface {
	Logf(format string, args ...any)
}

// Teardown names how an environment is removed.
type Teardown string

const (
	// TeardownFast removes the environment's labelled containers, networks and volumes
	// through the Docker API and discards the Terraform state. The default for throwaway
	// environments: much faster than a destroy (the provider waits 2 s per network).
	TeardownFast Teardown = "fast"
	// TeardownDestroy runs `terraform destroy`, then removes anything labelled that is left.
	TeardownDestroy Teardown = "destroy"
)

// Keep names when an environment is left running at the end of a test.
type Keep string

const (
	KeepNever     Keep = "never"
	KeepOnFailure Keep = "failure" // DSENV_KEEP=1
	KeepAlways    Keep = "always"  // DSENV_KEEP=always
)

// Binary names which IaC binary applies the modules.
type Binary = tfbin.Binary

const (
	Terraform = tfbin.Terraform // the default
	OpenTofu  = tfbin.OpenTofu  // DSENV_TF_BINARY=tofu
)

// Service names a service of the environment.
type Service string

const (
	ServicePostgres    Service = "postgres"
	ServiceRedis       Service = "redis"
	ServiceDataStorage Service = "datastorage"
	ServiceMigrate     Service = "migrate"
)

const (
	defaultTimeout  = 5 * time.Minute
	defaultLogTail  = 50
	defaultIDPrefix = "t"
)

type config struct {
	binary       Binary
	vars         map[string]any
	sensitive    map[string]string
	labels       map[string]string
	idPrefix     string
	keep         Keep
	timeout      time.Duration
	artifactsDir string
	logger       Logger
	logTail      int
	teardown     Teardown
	modules      fs.FS
	moduleRoot   string
	retryable    []retryRule
	maxRetries   int
	timingsFile  string
	verbose      bool
	testName     string
	ownNetwork   bool
	reattach     bool   // one provider process per environment (DSENV_REATTACH=0: off)
	signals      *bool  // nil: handle SIGINT/SIGTERM unless a test framework does (frameworkHandlesSignals)
	ownerLabel   string // dsenv.owner to write instead of this process's (Shared)
	envID        string // the id to use instead of a new one (Shared records it before Up)
	pool         int    // spare environments kept applied (WithPool, DSENV_POOL)
	err          error  // the first invalid option or environment variable
}

// newConfig applies defaults from the environment, then opts.
func newConfig(opts []Option) *config {
	c := &config{
		vars:        map[string]any{},
		sensitive:   map[string]string{},
		labels:      map[string]string{},
		idPrefix:    defaultIDPrefix,
		keep:        KeepNever,
		timeout:     defaultTimeout,
		logTail:     defaultLogTail,
		teardown:    TeardownFast,
		moduleRoot:  "env",
		retryable:   defaultRetryable(),
		maxRetries:  2,
		timingsFile: os.Getenv("DSENV_TIMINGS_FILE"),
		ownNetwork:  true,
		reattach:    os.Getenv("DSENV_REATTACH") != "0",
	}
	var err error
	if c.binary, err = tfbin.FromEnv(); err != nil {
		c.setErr(err)
	}
	if v := os.Getenv("DSENV_KEEP"); v != "" {
		if c.keep, err = parseKeep(v); err != nil {
			c.setErr(err)
		}
	}
	switch v := os.Getenv("DSENV_TEARDOWN"); v {
	case "", string(TeardownFast):
	case string(TeardownDestroy):
		c.teardown = TeardownDestroy
	default:
		c.setErr(fmt.Errorf("DSENV_TEARDOWN=%q: want %q or %q", v, TeardownFast, TeardownDestroy))
	}
	if v := os.Getenv("DSENV_VERBOSE"); v != "" {
		c.verbose, _ = strconv.ParseBool(v)
	}
	if v := os.Getenv("DSENV_POOL"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			c.setErr(fmt.Errorf("DSENV_POOL=%q: want a number of spare environments (0: no pool)", v))
		} else {
			c.pool = n
		}
	}
	if v := os.Getenv("DSENV_TIMEOUT"); v != "" {
		if c.timeout, err = time.ParseDuration(v); err != nil || c.timeout <= 0 {
			c.setErr(fmt.Errorf("DSENV_TIMEOUT=%q: want a positive duration such as 3m", v))
			c.timeout = defaultTimeout
		}
	}
	// DSENV_<SERVICE>_IMAGE switches an image without a code change, e.g. to
	// postgres:16-alpine where a registry is reachable.
	for _, svc := range []Service{ServicePostgres, ServiceRedis, ServiceDataStorage, ServiceMigrate} {
		if v := os.Getenv("DSENV_" + strings.ToUpper(string(svc)) + "_IMAGE"); v != "" {
			c.vars[string(svc)+"_image"] = v
		}
	}
	// DSENV_MIGRATIONS_DIR: the DS's own goose migrations, with DSENV_DATASTORAGE_IMAGE
	// pointing at an image other than the reference DS.
	if v := os.Getenv("DSENV_MIGRATIONS_DIR"); v != "" {
		migrationsDirOption(v).apply(c)
	}
	// DSENV_AUTH_BACKEND=kube runs a suite written for the stand-in against the real
	// Kubernetes API (WithAuthBackend in the code wins).
	switch v := AuthBackend(os.Getenv("DSENV_AUTH_BACKEND")); v {
	case "":
	case AuthStandIn, AuthKube:
		c.vars["auth_backend"] = string(v)
	default:
		c.setErr(fmt.Errorf("DSENV_AUTH_BACKEND=%q: want %q or %q", v, AuthStandIn, AuthKube))
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if err := checkSchema(c.vars); err != nil {
		c.setErr(err)
	}
	return c
}

func (c *config) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

func parseKeep(v string) (Keep, error) {
	switch strings.ToLower(v) {
	case "0", "false", "no", "never":
		return KeepNever, nil
	case "1", "true", "yes", "failure", "on-failure":
		return KeepOnFailure, nil
	case "always":
		return KeepAlways, nil
	}
	return KeepNever, fmt.Errorf("DSENV_KEEP=%q: want 1 (keep on failure), always or 0", v)
}

// artifactsDir is where logs of failed environments go: DSENV_ARTIFACTS_DIR, else
// artifacts in dsenv's per-user cache directory (DSENV_CACHE_DIR, ~/.cache/dsenv), else
// dsenv-artifacts-<uid> under the system temporary directory. DumpLogs creates it 0700.
func artifactsDir() string {
	if d := os.Getenv("DSENV_ARTIFACTS_DIR"); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			return abs
		}
		return d
	}
	if d, err := cache.Dir(); err == nil {
		return filepath.Join(d, "artifacts")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("dsenv-artifacts-%d", os.Getuid()))
}

func (c *config) artifacts() string {
	if c.artifactsDir != "" {
		return c.artifactsDir
	}
	return artifactsDir()
}

type varsOption map[string]any

func (o varsOption) apply(c *config) { maps.Copy(c.vars, o) }

// WithVars sets Terraform variables of the root module (non-secret ones; see
// WithSensitiveVar). They override the harness's own values, name_prefix excepted.
func WithVars(vars map[string]any) Option { return varsOption(maps.Clone(vars)) }

type sensitiveVarOption struct{ name, value string }

func (o sensitiveVarOption) apply(c *config) { c.sensitive[o.name] = o.value }

// WithSensitiveVar sets a secret variable. It is never logged and never passed in argv.
// postgres_password, redis_password and api_token are generated when not set.
func WithSensitiveVar(name, value string) Option { return sensitiveVarOption{name, value} }

type imageOption struct {
	svc Service
	ref string
}

func (o imageOption) apply(c *config) { c.vars[string(o.svc)+"_image"] = o.ref }

// WithImage sets the image of one service, e.g. WithImage(ServicePostgres, "postgres:16-alpine").
func WithImage(svc Service, ref string) Option { return imageOption{svc, ref} }

type migrationsDirOption string

func (o migrationsDirOption) apply(c *config) {
	dir, err := filepath.Abs(string(o))
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(dir); err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		c.setErr(fmt.Errorf("migrations directory %q: %w", string(o), err))
		return
	}
	c.vars["migrations_dir"] = dir
}

// WithMigrationsDir applies the goose migrations in dir (a host directory, mounted read-only
// into the migration job) instead of the reference DS's schema (DSENV_MIGRATIONS_DIR). An
// image other than the reference DS needs its own: without them Up refuses to start.
func WithMigrationsDir(dir string) Option { return migrationsDirOption(dir) }

type logLevelOption string

func (o logLevelOption) apply(c *config) { c.vars["log_level"] = string(o) }

// WithLogLevel sets the DS log level (debug, info, warn, error).
func WithLogLevel(level string) Option { return logLevelOption(level) }

type labelsOption map[string]string

func (o labelsOption) apply(c *config) { maps.Copy(c.labels, o) }

// WithLabels adds labels to every Docker object of the environment.
func WithLabels(labels map[string]string) Option { return labelsOption(maps.Clone(labels)) }

type keepOption Keep

func (o keepOption) apply(c *config) { c.keep = Keep(o) }

// WithKeep sets when the environment is left running (DSENV_KEEP): KeepOnFailure leaves
// a failed test's environment running and prints how to reach and remove it.
func WithKeep(k Keep) Option { return keepOption(k) }

type timeoutOption time.Duration

func (o timeoutOption) apply(c *config) { c.timeout = time.Duration(o) }

// WithTimeout bounds bringing the environment up (default 5m, DSENV_TIMEOUT).
func WithTimeout(d time.Duration) Option { return timeoutOption(d) }

type artifactsOption string

func (o artifactsOption) apply(c *config) { c.artifactsDir = string(o) }

// WithArtifactsDir sets where logs of failed environments go (default DSENV_ARTIFACTS_DIR, else artifacts in dsenv's per-user cache directory). DumpLogs makes the directory 0700 and its files 0600: they hold state and logs.
func WithArtifactsDir(dir string) Option { return artifactsOption(dir) }

type binaryOption Binary

func (o binaryOption) apply(c *config) {
	switch b := Binary(o); b {
	case Terraform, OpenTofu:
		c.binary = b
	default:
		c.setErr(fmt.Errorf("WithBinary(%q): want %q or %q", b, Terraform, OpenTofu))
	}
}

// WithBinary chooses terraform (default) or tofu (DSENV_TF_BINARY).
func WithBinary(b Binary) Option { return binaryOption(b) }

type loggerOption struct{ l Logger }

func (o loggerOption) apply(c *config) { c.logger = o.l }

// WithLogger sends the harness's messages to l (New uses the test's t.Logf; Up
// defaults to stderr).
func WithLogger(l Logger) Option { return loggerOption{l} }

type logTailOption int

func (o logTailOption) apply(c *config) { c.logTail = int(o) }

// WithLogTail sets how many log lines per container are shown on failure (default 50).
func WithLogTail(lines int) Option { return logTailOption(lines) }

type teardownOption Teardown

func (o teardownOption) apply(c *config) { c.teardown = Teardown(o) }

// WithTeardown chooses TeardownFast (default) or TeardownDestroy (DSENV_TEARDOWN).
func WithTeardown(t Teardown) Option { return teardownOption(t) }

type modulesOption struct {
	fsys fs.FS
	root string
}

func (o modulesOption) apply(c *config) { c.modules, c.moduleRoot = o.fsys, o.root }

// WithModules applies the root module root of the tree fsys instead of the embedded
// dsenv modules, e.g. WithModules(os.DirFS("../terraform"), "env"). Only Terraform
// sources are copied (*.tf, *.tf.json, *.tftpl, templates/); state, tfvars and
// .terraform directories never are.
func WithModules(fsys fs.FS, root string) Option { return modulesOption{fsys, root} }

type idPrefixOption string

func (o idPrefixOption) apply(c *config) { c.idPrefix = string(o) }

// WithIDPrefix sets the first part of the environment id (default "t": t-ab12cd34).
func WithIDPrefix(p string) Option { return idPrefixOption(p) }

type retryOption struct {
	pattern, why string
}

func (o retryOption) apply(c *config) {
	r, err := newRetryRule(o.pattern, o.why)
	if err != nil {
		c.setErr(err)
		return
	}
	c.retryable = append(c.retryable, r)
}

// WithRetryableError adds a regular expression of a transient Terraform error; an
// apply failing with it is retried (and the retry is logged with why).
func WithRetryableError(pattern, why string) Option { return retryOption{pattern, why} }

type maxRetriesOption int

func (o maxRetriesOption) apply(c *config) { c.maxRetries = int(o) }

// WithMaxRetries sets how often a transient apply error is retried (default 2).
func WithMaxRetries(n int) Option { return maxRetriesOption(n) }

type timingsFileOption string

func (o timingsFileOption) apply(c *config) { c.timingsFile = string(o) }

// WithTimingsFile appends one JSON line of phase timings per environment to path
// (DSENV_TIMINGS_FILE).
func WithTimingsFile(path string) Option { return timingsFileOption(path) }

type verboseOption bool

func (o verboseOption) apply(c *config) { c.verbose = bool(o) }

// WithVerbose streams Terraform's output to the logger (DSENV_VERBOSE=1).
func WithVerbose(v bool) Option { return verboseOption(v) }

type testNameOption string

func (o testNameOption) apply(c *config) { c.testName = string(o) }

// WithTestName names the artifacts subdirectory (New sets it to t.Name()).
func WithTestName(name string) Option { return testNameOption(name) }

type signalsOption bool

func (o signalsOption) apply(c *config) { v := bool(o); c.signals = &v }

// WithSignalHandling chooses whether the harness handles SIGINT and SIGTERM itself:
// with true it removes every live environment of the process and then exits with the
// signal; with false it installs no handler and never exits the process, so the test
// framework's own handling runs (Ginkgo: interrupt report, AfterSuite, where Down runs).
// Cancel the context given to Up to stop an Up in flight; it then removes what it created.
// The default is true, except in a test binary that links Ginkgo v2 (its flags are
// registered), where it is false.
func WithSignalHandling(on bool) Option { return signalsOption(on) }

type poolOption int

func (o poolOption) apply(c *config) {
	if o < 0 {
		c.setErr(fmt.Errorf("WithPool(%d): want 0 (no pool) or more spare environments", int(o)))
		return
	}
	c.pool = int(o)
}

// WithPool keeps n spare environments of this configuration applied in the background
// (DSENV_POOL=n): New and Up take a ready one, so a test waits only when the pool ran dry,
// and a new spare starts behind it. Environments asked for with other variables, images,
// labels or modules come from a pool of their own. After the test, New removes the
// environment it used in the background. ClosePools (call it from TestMain) removes the
// spares nobody took and waits for those removals; without it the reaper removes what is
// left when the process exits. 0: no pool.
func WithPool(n int) Option { return poolOption(n) }
