package tfharness

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Timings are the durations of an environment's phases.
type Timings struct {
	Copy    time.Duration // module tree copied into the workspace
	Init    time.Duration // terraform init (once per process; zero for later environments)
	Network time.Duration // network created by the harness
	Apply   time.Duration // terraform apply, including the modules' health waits
	Ready   time.Duration // outputs read, DS readiness confirmed
	Destroy time.Duration // teardown
	Retries int           // applies repeated after a transient error
	// Wait is how long New waited for a spare of the pool (WithPool); the phases above
	// then ran in the background before the test asked.
	Wait time.Duration
}

// Up is the time from the start until the environment was ready.
func (t Timings) Up() time.Duration { return t.Copy + t.Init + t.Network + t.Apply + t.Ready }

// String is the one-line summary printed per environment.
func (t Timings) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "up %s (copy %s, init %s, network %s, apply %s, ready %s)",
		round(t.Up()), round(t.Copy), round(t.Init), round(t.Network), round(t.Apply), round(t.Ready))
	if t.Wait > 0 {
		fmt.Fprintf(&b, ", pool wait %s", round(t.Wait))
	}
	if t.Destroy > 0 {
		fmt.Fprintf(&b, ", destroy %s", round(t.Destroy))
	}
	if t.Retries > 0 {
		fmt.Fprintf(&b, ", %d retries", t.Retries)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// timingsRecord is one line of DSENV_TIMINGS_FILE.
type timingsRecord struct {
	Env       string  `json:"env"`
	Test      string  `json:"test,omitempty"`
	Binary    string  `json:"binary"`
	Teardown  string  `json:"teardown"`
	Failed    bool    `json:"failed"`
	Start     string  `json:"start"`
	CopyS     float64 `json:"copy_s"`
	InitS     float64 `json:"init_s"`
	NetworkS  float64 `json:"network_s"`
	ApplyS    float64 `json:"apply_s"`
	ReadyS    float64 `json:"ready_s"`
	UpS       float64 `json:"up_s"`
	DestroyS  float64 `json:"destroy_s"`
	Retries   int     `json:"retries"`
	Pooled    bool    `json:"pooled,omitempty"`
	WaitS     float64 `json:"wait_s,omitempty"`
	Parallel  int     `json:"parallel"`
	Timestamp int64   `json:"ts"`
}

// appendTimings appends one JSON line; O_APPEND keeps lines of parallel processes whole.
func appendTimings(path string, r timingsRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// report prints the one-line timing summary and appends it to the timings file.
func (e *Env) report(failed bool) {
	if e.runnerVars != nil {
		e.logf("env %s: prepared for terratest in %s, removed in %s", e.ID, round(e.Timings.Copy), round(e.Timings.Destroy))
		return
	}
	e.logf("env %s: %s", e.ID, e.Timings)
	if e.cfg.timingsFile == "" {
		return
	}
	t := e.Timings
	rec := timingsRecord{
		Env: e.ID, Test: e.cfg.testName, Binary: string(e.cfg.binary), Teardown: string(e.cfg.teardown),
		Failed: failed, Start: e.Created.UTC().Format(time.RFC3339),
		CopyS: t.Copy.Seconds(), InitS: t.Init.Seconds(), NetworkS: t.Network.Seconds(),
		ApplyS: t.Apply.Seconds(), ReadyS: t.Ready.Seconds(), UpS: t.Up().Seconds(),
		DestroyS: t.Destroy.Seconds(), Retries: t.Retries, Parallel: trackedPeak(),
		Pooled: e.pooled, WaitS: t.Wait.Seconds(),
		Timestamp: time.Now().Unix(),
	}
	if err := appendTimings(e.cfg.timingsFile, rec); err != nil {
		e.logf("env %s: timings file: %v", e.ID, err)
	}
}
