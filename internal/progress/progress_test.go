package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlainPrintsEachResultOnce(t *testing.T) {
	var b bytes.Buffer
	d := New(&b, false)
	d.Set("init", "init", "", Running)
	d.Set("init", "init", "", Running) // no change: no new line
	d.Set("init", "init", "0.4s", Done)
	d.Set("c/postgres", "postgres", "created", Running)
	d.Close()
	d.Set("c/postgres", "postgres", "created · healthy 1.0s", Done)
	want := " ✔ init                     0.4s\n ✔ postgres                 created · healthy 1.0s\n"
	if b.String() != want {
		t.Errorf("plain output:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestTerminalRedrawsInPlace(t *testing.T) {
	var b bytes.Buffer
	d := New(&b, true)
	d.Set("a", "a", "one", Done)
	d.Set("b", "b", "two", Done)
	d.Set("a", "a", "three", Done)
	d.Close()
	out := b.String()
	if !strings.Contains(out, "\x1b[2A") || !strings.HasSuffix(out, "\r\x1b[2K ✔ a                        three\n\r\x1b[2K ✔ b                        two\n") {
		t.Errorf("terminal output does not redraw both lines in place:\n%q", out)
	}
}
