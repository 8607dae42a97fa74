package tfharness

import (
	"os"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/tfbin"
)

// tfGOGC is the Go garbage collector's target for the Terraform and provider processes
// the harness starts, unless GOGC is set: both are short-lived and allocate a lot, and at
// the default (100) the collector costs about 0.14 s of their 0.74 s of CPU per environment;
// at 400 their peak memory grows from about 95 to 130-150 MB (off: 295 MB, no faster).
const tfGOGC = "400"

// goEnv adds GOGC=tfGOGC to env unless the harness's own environment sets GOGC.
func goEnv(env map[string]string) map[string]string {
	if _, set := os.LookupEnv("GOGC"); !set {
		env["GOGC"] = tfGOGC
	}
	return env
}

func (e *Env) tfEnv() map[string]string {
	return goEnv(tfbin.Env(map[string]string{
		"TF_CLI_CONFIG_FILE": e.proc.cliConfig,
		"TF_DATA_DIR":        e.dataDir,
		// Markers the reaper and an aborted apply use to find stray Terraform and
		// provider processes.
		"DSENV_ENV":   e.ID,
		"DSENV_OWNER": e.Owner,
	}))
}

func (e *Env) newTerraform() (*tfexec.Terraform, error) {
	tf, err := tfexec.NewTerraform(e.Dir, e.tmpl.execPath)
	if err != nil {
		return nil, err
	}
	if err := tf.SetEnv(e.tfEnv()); err != nil {
		return nil, err
	}
	// On cancellation Terraform gets SIGINT; we tear down by label anyway, so do not
	// wait for a graceful stop.
	if err := tf.SetWaitDelay(500 * time.Millisecond); err != nil {
		return nil, err
	}
	var w interface{ Write([]byte) (int, error) } = &e.tfOut
	if e.cfg.verbose {
		w = multiWriter{&e.tfOut, &logWriter{logf: e.logf, prefix: e.ID + ": ", redact: e.redact}}
	}
	tf.SetStdout(w)
	tf.SetStderr(w)
	return tf, nil
}
