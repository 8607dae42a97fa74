// Package tfharness gives each Go test its own disposable dsenv environment (network,
// PostgreSQL, Redis, migrations, Data Storage) by applying the terraform/env root module
// with terraform-exec, and guarantees that nothing is left behind.
//
//	func TestGateway(t *testing.T) {
//		env := tfharness.New(t)                       // applied, ready, torn down by t.Cleanup
//		c := client.New(env.DataStorage.URL, env.Token)
//		db, _ := pgx.Connect(ctx, env.Postgres.DSN)   // env.Postgres.Port is an int
//		...
//	}
//
// For suites that share one environment (TestMain, Ginkgo), Up and Env.Down; for
// terratest-style suites, package tfharness/terratest returns *terraform.Options.
//
// Ginkgo and other processes: Env.Marshal on the process that ran Up returns a versioned
// JSON payload (it holds the secrets) that Attach turns into an Env in any process; an
// attached Env's Down does nothing, since teardown (and the reaper's duty) stays with the
// owner. In a test binary that links Ginkgo v2 the harness installs no signal handler and
// never exits the process (WithSignalHandling decides explicitly), so Ginkgo's interrupt
// report and AfterSuite run; Up honours its context (SpecContext, NodeTimeout) and removes
// what it made when cancelled.
//
// One environment per `go test` run: Shared(t, name) brings the environment up in the
// first package process that asks and attaches the others, through a lock and a 0600
// record in the cache directory; it is owned by the run (the go command), so no package
// process's reaper removes it, and it is removed once the run has ended and no user is
// alive, also when users were killed.
//
// Between tests: Env.Reset empties every migrated table and the Redis streams in
// milliseconds while the DS runs on; CountEvents and WaitForEvents query the DS's audit
// events (for Gomega's Eventually and for plain tests), and a timeout says what was seen.
//
// Isolation: every environment gets a private copy of the module tree (embedded in the
// binary, see package github.com/dsenv/dsenv/terraform), its own TF_DATA_DIR and state,
// a unique id (t-xxxxxxxx) that prefixes every Docker object, and host ports Docker picks
// on 127.0.0.1. Providers come from the read-only mirror `dsenv setup` builds, through a
// CLI config of the harness's own; `terraform init` runs once per process.
//
// Speed: the harness applies with datastorage_preflight = false and datastorage_wait =
// false (WithVars turns either back on) and waits itself: it polls the DS's /readyz every
// 50 ms while it watches the environment's containers, so a container that exits non-zero
// (a failed migration, a DS that cannot reach Redis) fails Up at once with its last log
// lines. Each environment gets its own docker provider process, started while the
// workspace is prepared and handed to Terraform with TF_REATTACH_PROVIDERS, instead of the
// four launches of a plain apply (Terraform only; DSENV_REATTACH=0 turns it off).
//
// Ready means /readyz answers 200 and one authenticated request (GET
// /api/v1/audit/events?limit=1 with env.Token) answers 2xx: the DS checks tokens with the
// environment's Kubernetes auth stand-in, which /readyz does not look at, so a broken auth
// path fails Up (step "auth") naming the stand-in, with its and the DS's log lines. The real
// DS runs with DSENV_DATASTORAGE_IMAGE and DSENV_MIGRATIONS_DIR (its own migrations; an image
// other than dsenv/datastorage without them is refused before anything starts).
//
// Teardown: t.Cleanup (logs of every container and its health log go to t.Log and to
// DSENV_ARTIFACTS_DIR first when the test failed); SIGINT/SIGTERM (live environments
// are removed, then the process exits with the signal; not under Ginkgo, see above); `go test -timeout` and SIGKILL
// (a reaper process removes everything labelled with the dead process as owner);
// `dsenv sweep` for anything else. Throwaway environments are removed by label through
// the Docker API, which is much faster than `terraform destroy` (DSENV_TEARDOWN=destroy
// runs the real destroy).
//
// Warm pool: WithPool(n) (DSENV_POOL=n) keeps n spare environments of the same
// configuration applied in the background; New takes a ready one and a new spare starts
// behind it. Other variables, images, labels or modules get a pool of their own (keyed by
// a hash of the configuration). After the test, the environment it used is removed in the
// background. Spares are owned by the process like any environment: ClosePools (from
// TestMain) removes those nobody took and waits for the background removals, else the
// reaper removes what is left when the process exits, and SIGINT/SIGTERM remove them with
// the rest.
//
// Environment variables: DSENV_KEEP (1: keep a failed test's environment and print how to
// reach and remove it; always), DSENV_ARTIFACTS_DIR, DSENV_TIMINGS_FILE (JSON lines of
// per-phase timings), DSENV_TF_BINARY (terraform or tofu), DSENV_TEARDOWN (fast or
// destroy), DSENV_TIMEOUT, DSENV_VERBOSE (stream Terraform's output), DSENV_CACHE_DIR
// (where the provider mirror is), DSENV_POSTGRES_IMAGE, DSENV_REDIS_IMAGE,
// DSENV_DATASTORAGE_IMAGE, DSENV_MIGRATE_IMAGE (other images), DSENV_MIGRATIONS_DIR (the
// DS's own goose migrations), DSENV_REAPER=0 (no reaper), DSENV_POOL (spare environments
// kept applied),
// DSENV_REATTACH=0 (Terraform launches the provider itself).
package tfharness
