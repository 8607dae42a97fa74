package planreview

import (
	"fmt"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// MaxCommentChars is GitHub's limit on the body of an issue or pull-request comment.
const MaxCommentChars = 65536

// Marker is the hidden first line of every markdown review; a workflow finds its own
// earlier comment by it and updates that comment instead of adding another.
const Marker = "<!-- dsenv:plan-review -->"

// maxWarnings bounds the data-loss list; the verdict still counts all of them.
const maxWarnings = 50

// RenderOptions shape a markdown review.
type RenderOptions struct {
	// Title heads the comment, e.g. "terraform/envs/shared". Empty: no title line.
	Title string
	// Marker is the hidden first line; empty means the package Marker. "-" means none.
	Marker string
	// Limit bounds the whole comment in bytes (and so in characters); 0 means MaxCommentChars.
	Limit int
}

// Verdict is the one-line summary of a plan, e.g. "Plan: 1 to replace." or "No changes.".
func Verdict(s Summary) string {
	if len(s.Changes) == 0 {
		if len(s.Outputs) > 0 {
			return fmt.Sprintf("No changes to resources; %d output value(s) change.", len(s.Outputs))
		}
		return "No changes. The infrastructure matches the configuration."
	}
	var parts []string
	for _, k := range Kinds {
		if n := s.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, k))
		}
	}
	v := "Plan: " + strings.Join(parts, ", ") + "."
	if s.Incomplete {
		v += " Incomplete: some changes are deferred to a later plan."
	}
	if n := len(s.DataLoss()); n > 0 {
		v += fmt.Sprintf(" Destroys data: %d change(s), see the warning.", n)
	}
	return v
}

// Render returns the markdown review of a plan, at most o.Limit bytes long.
func Render(p *tfjson.Plan, o RenderOptions) string {
	return RenderSummary(Summarize(p), o)
}

// RenderSummary is Render for a plan already summarized.
func RenderSummary(s Summary, o RenderOptions) string {
	limit := o.Limit
	if limit <= 0 {
		limit = MaxCommentChars
	}
	marker := o.Marker
	if marker == "" {
		marker = Marker
	}

	var head strings.Builder
	if marker != "-" {
		head.WriteString(marker + "\n")
	}
	if o.Title != "" {
		fmt.Fprintf(&head, "### Terraform plan: `%s`\n\n", cell(o.Title))
	}
	icon := "✅"
	switch {
	case len(s.DataLoss()) > 0:
		icon = "⚠️"
	case s.HasChanges():
		icon = "📝"
	}
	fmt.Fprintf(&head, "%s **%s**\n\n", icon, Verdict(s))
	if s.Baseline != "" {
		fmt.Fprintf(&head, "_%s_\n\n", s.Baseline)
	}
	if len(s.Moved) > 0 {
		fmt.Fprintf(&head, "**Moved** (state only, the objects stay as they are): %d resource(s)\n\n", len(s.Moved))
		for i, m := range s.Moved {
			if i == maxWarnings {
				fmt.Fprintf(&head, "- … and %d more\n", len(s.Moved)-maxWarnings)
				break
			}
			fmt.Fprintf(&head, "- `%s` → `%s`\n", m.From, m.To)
		}
		head.WriteString("\n")
	}

	if loss := s.DataLoss(); len(loss) > 0 {
		head.WriteString("> [!CAUTION]\n> **This plan destroys data.** Applying it loses what these objects store:\n>\n")
		for i, c := range loss {
			if i == maxWarnings {
				fmt.Fprintf(&head, "> - … and %d more\n", len(loss)-maxWarnings)
				break
			}
			fmt.Fprintf(&head, "> - `%s` (%s): %s\n", c.Address, c.Kind, c.DataLoss)
		}
		head.WriteString("\n")
	}
	if len(s.Drift) > 0 {
		fmt.Fprintf(&head, "**Changed outside Terraform** (found while refreshing): %d object(s)\n\n", len(s.Drift))
		for i, d := range s.Drift {
			if i == maxWarnings {
				fmt.Fprintf(&head, "- … and %d more\n", len(s.Drift)-maxWarnings)
				break
			}
			fmt.Fprintf(&head, "- `%s` was %s\n", d.Address, d.What)
		}
		head.WriteString("\n")
	}
	if !s.HasChanges() {
		return clip(head.String(), limit)
	}
	if len(s.Changes) > 0 {
		head.WriteString("| action | count |\n| --- | ---: |\n")
		for _, k := range Kinds {
			if k == Forget && s.Counts[k] == 0 {
				continue
			}
			fmt.Fprintf(&head, "| %s | %d |\n", k, s.Counts[k])
		}
		head.WriteString("\n")
	}
	if len(s.Outputs) > 0 {
		fmt.Fprintf(&head, "Outputs that change: %s\n\n", codeList(s.Outputs))
	}

	rows := make([]string, len(s.Changes))
	for i, c := range s.Changes {
		rows[i] = fmt.Sprintf("| %s | `%s` | %s |\n", c.Kind, cell(c.Address), cell(details(c)))
	}
	blocks := make([]string, len(s.Changes), len(s.Changes)+1)
	for i, c := range s.Changes {
		blocks[i] = strings.Join(diffLines(c), "\n") + "\n"
	}
	if out := outputLines(s); len(out) > 0 {
		blocks = append(blocks, strings.Join(out, "\n")+"\n")
	}
	fence := fenceFor(blocks)

	const tableHead = "| action | resource | details |\n| --- | --- | --- |\n"
	build := func(nRows, nBlocks int) string {
		var b strings.Builder
		b.WriteString(head.String())
		if len(rows) > 0 {
			b.WriteString(tableHead)
			for _, r := range rows[:nRows] {
				b.WriteString(r)
			}
			b.WriteString("\n")
		}
		if nRows < len(rows) || nBlocks < len(blocks) {
			b.WriteString(truncNote(nRows, min(nBlocks, len(rows)), len(rows)))
		}
		if len(blocks) > 0 && nBlocks > 0 {
			fmt.Fprintf(&b, "<details><summary>Full plan (%d resource change(s)", len(rows))
			if len(s.Outputs) > 0 {
				fmt.Fprintf(&b, ", %d output(s)", len(s.Outputs))
			}
			if nBlocks < len(blocks) {
				fmt.Fprintf(&b, ", first %d shown", nBlocks)
			}
			fmt.Fprintf(&b, ")</summary>\n\n%sdiff\n", fence)
			for i, bl := range blocks[:nBlocks] {
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString(bl)
			}
			fmt.Fprintf(&b, "%s\n\n</details>\n", fence)
		}
		return b.String()
	}

	full := build(len(rows), len(blocks))
	if len(full) <= limit {
		return full
	}
	// Too long: keep the whole table if it fits, and as many plan blocks as fit after it.
	if out := build(len(rows), 0); len(out) <= limit {
		n := fit(len(blocks), func(n int) bool { return len(build(len(rows), n)) <= limit })
		return build(len(rows), n)
	}
	n := fit(len(rows), func(n int) bool { return len(build(n, 0)) <= limit })
	return clip(build(n, 0), limit)
}

// fit returns the largest n in [0, max] for which ok(n) holds; ok must be monotone.
func fit(max int, ok func(int) bool) int {
	lo, hi := 0, max
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func truncNote(nRows, nBlocks, total int) string {
	return fmt.Sprintf("> [!NOTE]\n> **Truncated** to stay under GitHub's %d-character comment limit: "+
		"the table shows %d of %d resource changes and the full plan %d of them. "+
		"Run `dsenv plan` locally for everything.\n\n", MaxCommentChars, nRows, total, nBlocks)
}

// clip is the last resort when even the head does not fit (thousands of warnings).
func clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	note := "\n\n_Truncated to stay under GitHub's comment limit._\n"
	cut := limit - len(note)
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}

// details is the last column of the resource table.
func details(c Change) string {
	var parts []string
	if c.Kind == Replace && len(c.ReplacePaths) > 0 {
		parts = append(parts, "forced by "+codeList(c.ReplacePaths))
	}
	if c.Reason != "" {
		parts = append(parts, c.Reason)
	}
	if c.MovedFrom != "" {
		parts = append(parts, "moved from `"+c.MovedFrom+"`")
	}
	if c.DataLoss != "" {
		parts = append(parts, "⚠️ destroys data")
	}
	return strings.Join(parts, "; ")
}

func codeList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "`" + s + "`"
	}
	return strings.Join(q, ", ")
}

// cell escapes what would break a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// fenceFor returns a code fence longer than any run of backticks in the blocks.
func fenceFor(blocks []string) string {
	longest := 0
	for _, b := range blocks {
		run := 0
		for i := 0; i < len(b); i++ {
			if b[i] == '`' {
				run++
				if run > longest {
					longest = run
				}
			} else {
				run = 0
			}
		}
	}
	if longest < 3 {
		return "```"
	}
	return strings.Repeat("`", longest+1)
}

// RenderText returns a plain-text review for a terminal: verdict, warnings, one line per
// change, then the full per-resource diff.
func RenderText(s Summary) string {
	var b strings.Builder
	b.WriteString(Verdict(s) + "\n")
	if s.Baseline != "" {
		b.WriteString(strings.ReplaceAll(s.Baseline, "`", "") + "\n")
	}
	if len(s.Moved) > 0 {
		b.WriteString("\nMoved (state only, nothing changes):\n")
		for _, m := range s.Moved {
			fmt.Fprintf(&b, "  %s -> %s\n", m.From, m.To)
		}
	}
	if loss := s.DataLoss(); len(loss) > 0 {
		b.WriteString("\nWARNING: this plan destroys data:\n")
		for _, c := range loss {
			fmt.Fprintf(&b, "  %s (%s): %s\n", c.Address, c.Kind, strings.ReplaceAll(c.DataLoss, "`", ""))
		}
	}
	if len(s.Drift) > 0 {
		b.WriteString("\nChanged outside Terraform:\n")
		for _, d := range s.Drift {
			fmt.Fprintf(&b, "  %s was %s\n", d.Address, d.What)
		}
	}
	if len(s.Changes) > 0 {
		b.WriteString("\n")
		for _, c := range s.Changes {
			line := fmt.Sprintf("  %-16s %s", c.Kind, c.Address)
			if d := strings.ReplaceAll(details(c), "`", ""); d != "" {
				line += "  (" + d + ")"
			}
			b.WriteString(line + "\n")
		}
		for _, c := range s.Changes {
			b.WriteString("\n" + strings.Join(diffLines(c), "\n") + "\n")
		}
	}
	if out := outputLines(s); len(out) > 0 {
		b.WriteString("\n" + strings.Join(out, "\n") + "\n")
	}
	if len(s.Outputs) > 0 {
		fmt.Fprintf(&b, "\nOutputs that change: %s\n", strings.Join(s.Outputs, ", "))
	}
	return b.String()
}
