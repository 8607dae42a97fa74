// Package progress prints one line per step and per container while dsenv works, the
// way docker compose does: on a terminal the lines are redrawn in place as their state
// changes; otherwise each result (done, failed, a fact) is printed once as a plain line.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// State of a line.
type State int

const (
	Running State = iota // still going: shown with a spinner and its elapsed time
	Done                 // finished well
	Failed               // finished badly
	Info                 // a fact, not a task (e.g. a container that was already running)
)

// Display is a set of progress lines in the order they were first set.
type Display struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	lines []*line
	byKey map[string]*line
	drawn int // lines drawn last time (tty)
	width int // terminal columns (tty; 0: unknown)
	frame int
	stop  chan struct{}
	done  chan struct{}
}

type line struct {
	label, text string
	state       State
	start       time.Time
	printed     string // what was last printed (plain mode)
}

// IsTerminal reports whether w is a terminal (then lines update in place).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// New returns a display writing to w; with tty, lines are redrawn in place and running
// ones tick every 200 ms until Close.
func New(w io.Writer, tty bool) *Display {
	d := &Display{w: w, tty: tty, byKey: map[string]*line{}}
	if f, ok := w.(*os.File); ok && tty {
		d.width, _, _ = term.GetSize(int(f.Fd()))
	}
	if tty {
		d.stop, d.done = make(chan struct{}), make(chan struct{})
		go d.tick()
	}
	return d
}

// Set creates or updates the line key with label (its first column), text and state.
// A Running line shows the time since it was first set as Running.
func (d *Display) Set(key, label, text string, state State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.byKey[key]
	if !ok {
		l = &line{start: time.Now()}
		d.byKey[key] = l
		d.lines = append(d.lines, l)
	} else if l.state != Running && state == Running {
		l.start = time.Now()
	}
	l.label, l.text, l.state = label, text, state
	if d.tty {
		d.redraw()
		return
	}
	// Plain lines: one per result, so a step or container is one line, not one per state.
	if s := d.render(l, false); state != Running && s != l.printed {
		l.printed = s
		fmt.Fprintln(d.w, s)
	}
}

// Since is how long ago the line key was first set as Running (0 if unknown).
func (d *Display) Since(key string) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.byKey[key]; ok {
		return time.Since(l.start)
	}
	return 0
}

// Close stops the ticker and leaves the lines as they are; write after it freely.
func (d *Display) Close() {
	if d.tty && d.stop != nil {
		close(d.stop)
		<-d.done
		d.stop = nil
		d.mu.Lock()
		d.redraw()
		d.mu.Unlock()
	}
}

func (d *Display) tick() {
	defer close(d.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.mu.Lock()
			d.frame++
			d.redraw()
			d.mu.Unlock()
		}
	}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// render formats one line; with spin, a running line shows a spinner frame and its
// elapsed time (terminal only: a plain line must not change every tick).
func (d *Display) render(l *line, spin bool) string {
	var mark string
	switch l.state {
	case Running:
		mark = "…"
		if spin {
			mark = spinner[d.frame%len(spinner)]
		}
	case Done:
		mark = "✔"
	case Failed:
		mark = "✘"
	case Info:
		mark = "·"
	}
	text := l.text
	if l.state == Running && spin {
		text = strings.TrimSpace(text + fmt.Sprintf(" (%.1fs)", time.Since(l.start).Seconds()))
	}
	return strings.TrimRight(fmt.Sprintf(" %s %-24s %s", mark, l.label, text), " ")
}

// redraw moves the cursor back over the lines drawn last time and draws them all again.
func (d *Display) redraw() {
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.drawn)
	}
	for _, l := range d.lines {
		b.WriteString("\r\x1b[2K")
		s := d.render(l, true)
		// A wrapped line would make the cursor-up count wrong.
		if r := []rune(s); d.width > 1 && len(r) >= d.width {
			s = string(r[:d.width-1])
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	d.drawn = len(d.lines)
	io.WriteString(d.w, b.String())
}

// Seconds formats a duration as compose does: 1.2s.
func Seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
