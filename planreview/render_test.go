package planreview

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	tfjson "github.com/hashicorp/terraform-json"
)

var update = flag.Bool("update", false, "rewrite the golden files testdata/*.md and *.txt from the committed plans")

func loadPlan(t *testing.T, name string) *tfjson.Plan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p tfjson.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &p
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planreview -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered review (go test ./planreview -update rewrites it):\n%s", path, got)
	}
}

// TestGolden renders every committed real plan and compares it with its golden files, then
// checks what each plan is there to show.
func TestGolden(t *testing.T) {
	cases := []struct {
		name        string
		verdict     string
		changes     bool
		contains    []string
		notContains []string
	}{
		{
			name:     "nochange",
			verdict:  "No changes.",
			contains: []string{"No changes"},
		},
		{
			name:    "create",
			verdict: "Plan: 3 to create, 1 to read.",
			changes: true,
			contains: []string{
				"| create | 3 |", "| read | 1 |",
				"| create | `docker_container.postgres` |",
				"| read | `data.docker_network.net` | depends on pending changes |",
				"+ env = (sensitive value)",
			},
			notContains: []string{"fixture-create-password", "[!CAUTION]"},
		},
		{
			name:        "update",
			verdict:     "Plan: 1 to update in place.",
			changes:     true,
			contains:    []string{"| update in place | `docker_container.datastorage` |", `- restart = "no"`, `+ restart = "unless-stopped"`, "- memory = 256", "+ memory = 512"},
			notContains: []string{"[!CAUTION]", "forces replacement"},
		},
		{
			name:    "replace",
			verdict: "Plan: 1 to replace.",
			changes: true,
			contains: []string{"| replace | `docker_container.datastorage` | forced by `env` |", `- env = ["CONFIG_PATH=/etc/datastorage/config.yaml", "LOG_LEVEL=info"]`, `+ env = ["CONFIG_PATH=/etc/datastorage/config.yaml", "LOG_LEVEL=debug"]   # forces replacement`,
				"# output.config will change\n  logging:\n-   level: info\n+   level: debug\n  database:\n"},
			notContains: []string{"[!CAUTION]", "docker_volume.pgdata", "docker_container.postgres"},
		},
		{
			name:    "destroy_volume",
			verdict: "Plan: 1 to replace, 1 to destroy. Destroys data: 2 change(s), see the warning.",
			changes: true,
			contains: []string{
				"[!CAUTION]",
				"- `docker_volume.pgdata[0]` (destroy): Docker volume `planreview-destroy-volume-pgdata` is destroyed",
				"- `docker_container.postgres` (replace): Postgres container is replaced and keeps its data without a volume",
				"| destroy | `docker_volume.pgdata[0]` | count index out of range; ⚠️ destroys data |",
			},
		},
		{
			name:    "sensitive",
			verdict: "Plan: 1 to replace.",
			changes: true,
			contains: []string{
				"forced by `env`, `upload`",
				"- env = (sensitive value)",
				"+ env = (sensitive value)   # forces replacement",
				"+ upload = (sensitive value)   # forces replacement",
				"- redis_url = (sensitive value)\n+ redis_url = (sensitive value)",
			},
			notContains: []string{"fixture-old-secret", "fixture-new-secret"},
		},
		{
			name:     "drift",
			verdict:  "Plan: 1 to create.",
			changes:  true,
			contains: []string{"**Changed outside Terraform**", "- `docker_container.datastorage` was deleted", "| create | `docker_container.datastorage` |"},
		},
		{
			name:     "oversized",
			verdict:  "Plan: 60 to create.",
			changes:  true,
			contains: []string{"[!NOTE]", "**Truncated**", "| create | 60 |", "</details>"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := loadPlan(t, tc.name)
			s := Summarize(p)
			if got := Verdict(s); !strings.HasPrefix(got, tc.verdict) {
				t.Errorf("verdict = %q, want prefix %q", got, tc.verdict)
			}
			if s.HasChanges() != tc.changes {
				t.Errorf("HasChanges = %v, want %v", s.HasChanges(), tc.changes)
			}
			md := Render(p, RenderOptions{Title: "planreview/testdata/fixtures/" + tc.name})
			if len(md) > MaxCommentChars || utf8.RuneCountInString(md) > MaxCommentChars {
				t.Errorf("comment is %d bytes, over the %d limit", len(md), MaxCommentChars)
			}
			if !strings.HasPrefix(md, Marker+"\n") {
				t.Errorf("comment does not start with the marker")
			}
			if strings.Count(md, "<details>") != strings.Count(md, "</details>") {
				t.Errorf("unbalanced <details>")
			}
			for _, want := range tc.contains {
				if !strings.Contains(md, want) {
					t.Errorf("comment lacks %q", want)
				}
			}
			text := RenderText(s)
			for _, bad := range tc.notContains {
				if strings.Contains(md, bad) || strings.Contains(text, bad) {
					t.Errorf("review contains %q", bad)
				}
			}
			golden(t, filepath.Join("testdata", tc.name+".md"), md)
			golden(t, filepath.Join("testdata", tc.name+".txt"), text)
		})
	}
}

func TestOversizedUntruncatedIsOverLimit(t *testing.T) {
	// The fixture must really be oversized, or the truncation test proves nothing.
	p := loadPlan(t, "oversized")
	if md := Render(p, RenderOptions{Limit: 1 << 30}); len(md) <= MaxCommentChars {
		t.Fatalf("untruncated comment is only %d bytes", len(md))
	}
}

func TestTruncationKeepsWarningsAndFitsSmallLimits(t *testing.T) {
	p := loadPlan(t, "destroy_volume")
	for _, limit := range []int{200, 600, 1500, 3000} {
		md := Render(p, RenderOptions{Limit: limit})
		if len(md) > limit {
			t.Errorf("limit %d: got %d bytes", limit, len(md))
		}
		if limit >= 1500 && !strings.Contains(md, "[!CAUTION]") {
			t.Errorf("limit %d: warning dropped:\n%s", limit, md)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		r    *Result
		err  error
		want int
	}{
		{&Result{HasChanges: false}, nil, 0},
		{&Result{HasChanges: true}, nil, 2},
		{nil, os.ErrNotExist, 1},
		{&Result{HasChanges: true}, os.ErrNotExist, 1},
	} {
		if got := ExitCode(tc.r, tc.err); got != tc.want {
			t.Errorf("ExitCode(%+v, %v) = %d, want %d", tc.r, tc.err, got, tc.want)
		}
	}
}

func TestTextDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\n"
	b := "a\nb\nc\nD\ne\nf\ng\nh\n"
	got := strings.Join(textDiff(a, b), "\n")
	want := "  c\n- d\n+ D\n  e\n  …\n  g\n+ h"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMask(t *testing.T) {
	v := map[string]interface{}{"env": []interface{}{"A=1", "B=2"}, "name": "x"}
	sens := map[string]interface{}{"env": []interface{}{false, true}}
	got := format(mask(v, sens))
	if want := `{env = ["A=1", (sensitive value)], name = "x"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := format(mask(v, true)); got != SensitiveValue {
		t.Errorf("whole value: got %s", got)
	}
}
