package persistent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// observedApply runs init and apply with Terraform's output kept back, reporting steps
// and resource changes to p.Progress; on failure the error holds Terraform's Error: blocks.
func (p *Persistent) observedApply(ctx context.Context, tf *tfexec.Terraform) error {
	var initOut bytes.Buffer
	tf.SetStdout(&initOut)
	tf.SetStderr(&initOut)
	start := time.Now()
	p.Progress(Event{Step: "init", Phase: Started})
	if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		p.Progress(Event{Step: "init", Phase: Failed, Elapsed: time.Since(start)})
		return &TerraformError{Step: "init", Blocks: ErrorBlocks(initOut.String(), err)}
	}
	p.Progress(Event{Step: "init", Phase: Done, Elapsed: time.Since(start)})

	var stderr bytes.Buffer
	tf.SetStderr(&stderr)
	pr, pw := io.Pipe()
	a := &applyStream{p: p, start: time.Now()}
	parsed := make(chan struct{})
	go func() {
		defer close(parsed)
		a.read(pr)
	}()
	p.Progress(Event{Step: "plan", Phase: Started})
	err := tf.ApplyJSON(ctx, pw)
	pw.Close()
	<-parsed
	if err != nil {
		step := "apply"
		if !a.planned {
			step = "plan"
		}
		p.Progress(Event{Step: step, Phase: Failed, Elapsed: time.Since(a.stepStart())})
		text := strings.Join(a.errors, "\n")
		if text == "" {
			text = ErrorBlocks(stderr.String(), err)
		}
		return &TerraformError{Step: step, Blocks: text}
	}
	if !a.planned {
		p.Progress(Event{Step: "plan", Phase: Done, Elapsed: time.Since(a.start), Detail: "no changes"})
	} else {
		p.Progress(Event{Step: "apply", Phase: Done, Elapsed: time.Since(a.applyStart), Detail: a.summary})
	}
	return nil
}

// TerraformError is a failed Terraform step of an observed Up; Blocks is the part of
// Terraform's output that explains it (its Error: blocks).
type TerraformError struct {
	Step   string
	Blocks string
}

func (e *TerraformError) Error() string {
	return fmt.Sprintf("terraform %s failed: %s", e.Step, oneLine(e.Blocks))
}

// applyStream turns `terraform apply -json` messages into Events.
type applyStream struct {
	p                 *Persistent
	start, applyStart time.Time
	planned           bool // the plan had changes and the apply began
	summary           string
	planSummary       string
	errors            []string
}

func (a *applyStream) stepStart() time.Time {
	if a.planned {
		return a.applyStart
	}
	return a.start
}

type jsonMessage struct {
	Type string `json:"type"`
	Hook struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
		Action         string  `json:"action"`
		ElapsedSeconds float64 `json:"elapsed_seconds"`
	} `json:"hook"`
	Changes struct {
		Add       int    `json:"add"`
		Change    int    `json:"change"`
		Remove    int    `json:"remove"`
		Operation string `json:"operation"`
	} `json:"changes"`
	Diagnostic struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
		Address  string `json:"address"`
		Range    *struct {
			Filename string `json:"filename"`
			Start    struct {
				Line int `json:"line"`
			} `json:"start"`
		} `json:"range"`
	} `json:"diagnostic"`
}

func (a *applyStream) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var m jsonMessage
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		a.handle(m)
	}
	_, _ = io.Copy(io.Discard, r)
}

func (a *applyStream) handle(m jsonMessage) {
	switch m.Type {
	case "change_summary":
		c := m.Changes
		detail := fmt.Sprintf("%d to add, %d to change, %d to destroy", c.Add, c.Change, c.Remove)
		if c.Operation == "apply" {
			detail = fmt.Sprintf("%d added, %d changed, %d destroyed", c.Add, c.Change, c.Remove)
		}
		if c.Operation == "plan" {
			a.planSummary = detail
		}
		a.summary = detail
	case "apply_start":
		// The plan is done when the first managed resource starts changing (a plan that
		// fails afterwards, e.g. on a variable's validation, still prints a summary).
		if !a.planned && !strings.Contains(m.Hook.Resource.Addr, "data.") {
			a.planned = true
			a.applyStart = time.Now()
			a.p.Progress(Event{Step: "plan", Phase: Done, Elapsed: a.applyStart.Sub(a.start), Detail: a.planSummary})
			a.p.Progress(Event{Step: "apply", Phase: Started})
		}
		a.p.Progress(Event{Step: "apply", Resource: m.Hook.Resource.Addr, Action: m.Hook.Action, Phase: Started})
	case "apply_complete", "apply_errored":
		ph := Done
		if m.Type == "apply_errored" {
			ph = Failed
		}
		a.p.Progress(Event{Step: "apply", Resource: m.Hook.Resource.Addr, Action: m.Hook.Action, Phase: ph,
			Elapsed: time.Duration(m.Hook.ElapsedSeconds * float64(time.Second))})
	case "diagnostic":
		d := m.Diagnostic
		if d.Severity != "error" {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Error: %s", d.Summary)
		if d.Range != nil && d.Range.Filename != "" {
			fmt.Fprintf(&b, "\n  on %s line %d", d.Range.Filename, d.Range.Start.Line)
		}
		if d.Address != "" {
			fmt.Fprintf(&b, " (%s)", d.Address)
		}
		if d.Detail != "" {
			fmt.Fprintf(&b, "\n  %s", strings.ReplaceAll(strings.TrimSpace(d.Detail), "\n", "\n  "))
		}
		a.errors = append(a.errors, b.String())
	}
}

// ErrorBlocks returns the part of Terraform's human output that explains a failure: the
// lines from the first "Error:" on, box drawing removed. Without one, err's text.
func ErrorBlocks(out string, err error) string {
	var keep []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(strings.TrimLeft(l, "│╷╵ "), " ")
		if strings.HasPrefix(l, "Error:") {
			in = true
		}
		if in {
			keep = append(keep, l)
		}
	}
	text := strings.TrimSpace(strings.Join(keep, "\n"))
	if text == "" && err != nil {
		text = strings.TrimSpace(err.Error())
	}
	return text
}

// oneLine joins the lines of s with "; " (for one-line error messages).
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
