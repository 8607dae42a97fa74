package planreview

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Placeholders printed instead of values.
const (
	SensitiveValue = "(sensitive value)"
	KnownAfter     = "(known after apply)"
)

// maxValueChars bounds one rendered value (an uploaded file, a long list); the rest is elided.
const maxValueChars = 600

// placeholder is printed bare, never quoted.
type placeholder string

// mask returns v with every part that sens marks sensitive replaced by SensitiveValue.
// sens mirrors v's shape (before_sensitive/after_sensitive): true, or a map/list of the same.
func mask(v, sens interface{}) interface{} {
	switch s := sens.(type) {
	case bool:
		if s {
			return placeholder(SensitiveValue)
		}
		return v
	case map[string]interface{}:
		m, ok := v.(map[string]interface{})
		if !ok {
			if anyTrue(s) {
				return placeholder(SensitiveValue)
			}
			return v
		}
		out := make(map[string]interface{}, len(m))
		for k, x := range m {
			out[k] = mask(x, s[k])
		}
		return out
	case []interface{}:
		l, ok := v.([]interface{})
		if !ok {
			if anyTrue(s) {
				return placeholder(SensitiveValue)
			}
			return v
		}
		out := make([]interface{}, len(l))
		for i, x := range l {
			var si interface{}
			if i < len(s) {
				si = s[i]
			}
			out[i] = mask(x, si)
		}
		return out
	}
	return v
}

// unknown returns v with every part that unk marks unknown replaced by KnownAfter.
func unknown(v, unk interface{}) interface{} {
	switch u := unk.(type) {
	case bool:
		if u {
			return placeholder(KnownAfter)
		}
		return v
	case map[string]interface{}:
		m, _ := v.(map[string]interface{})
		out := make(map[string]interface{}, len(m)+len(u))
		for k, x := range m {
			out[k] = x
		}
		for k, x := range u {
			out[k] = unknown(out[k], x)
		}
		return out
	case []interface{}:
		l, _ := v.([]interface{})
		n := len(l)
		if len(u) > n {
			n = len(u)
		}
		out := make([]interface{}, n)
		for i := range out {
			var x, ui interface{}
			if i < len(l) {
				x = l[i]
			}
			if i < len(u) {
				ui = u[i]
			}
			out[i] = unknown(x, ui)
		}
		return out
	}
	return v
}

func anyTrue(v interface{}) bool {
	switch x := v.(type) {
	case bool:
		return x
	case map[string]interface{}:
		for _, y := range x {
			if anyTrue(y) {
				return true
			}
		}
	case []interface{}:
		for _, y := range x {
			if anyTrue(y) {
				return true
			}
		}
	}
	return false
}

// empty reports values not worth a line when an object is created: null, "", [], {}.
func empty(v interface{}) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []interface{}:
		return len(x) == 0
	case map[string]interface{}:
		return len(x) == 0
	}
	return false
}

// format renders a value compactly in HCL-like syntax, bounded to maxValueChars.
func format(v interface{}) string {
	var b strings.Builder
	writeValue(&b, v)
	s := b.String()
	if len(s) > maxValueChars {
		cut := maxValueChars
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = fmt.Sprintf("%s… (%d more characters)", s[:cut], len(s)-cut)
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func writeValue(b *strings.Builder, v interface{}) {
	if b.Len() > maxValueChars+64 {
		return // the caller cuts here anyway
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case placeholder:
		b.WriteString(string(x))
	case string:
		b.WriteString(strconv.Quote(x))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case json.Number:
		b.WriteString(x.String())
	case []interface{}:
		b.WriteByte('[')
		for i, y := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, y)
		}
		b.WriteByte(']')
	case map[string]interface{}:
		keys := sortedKeys(x)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteString(" = ")
			writeValue(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// diffLines renders one change as lines for a ```diff block: a header comment, then
// "+ attr = value" for what is created, "- attr = value" for what is destroyed, and a
// "-"/"+" pair for each changed attribute. Sensitive values are masked throughout.
func diffLines(c Change) []string {
	ch := c.Raw.Change
	header := "# " + c.Address + " " + headerVerb(c)
	lines := []string{header}
	before, _ := mask(ch.Before, ch.BeforeSensitive).(map[string]interface{})
	after, _ := mask(unknown(ch.After, ch.AfterUnknown), ch.AfterSensitive).(map[string]interface{})
	forces := map[string]bool{}
	for _, p := range c.ReplacePaths {
		top, _, _ := strings.Cut(p, ".")
		top, _, _ = strings.Cut(top, "[")
		forces[top] = true
	}
	switch c.Kind {
	case Create, Read:
		for _, k := range sortedKeys(after) {
			if !empty(after[k]) {
				lines = append(lines, "+ "+k+" = "+format(after[k]))
			}
		}
	case Destroy, Forget:
		// The header says it all; the identifying attributes help find the object.
		for _, k := range []string{"id", "name"} {
			if v, ok := before[k]; ok && !empty(v) {
				lines = append(lines, "- "+k+" = "+format(v))
			}
		}
	case Update, Replace:
		rawBefore, _ := ch.Before.(map[string]interface{})
		rawAfter, _ := ch.After.(map[string]interface{})
		unk, _ := ch.AfterUnknown.(map[string]interface{})
		keys := map[string]bool{}
		for k := range before {
			keys[k] = true
		}
		for k := range after {
			keys[k] = true
		}
		same := 0
		var later []string
		for _, k := range sortedKeys(boolKeys(keys)) {
			if equalish(rawBefore[k], rawAfter[k]) && !anyTrue(unk[k]) {
				same++
				continue
			}
			if u, ok := unk[k].(bool); ok && u && !forces[k] {
				later = append(later, k) // computed again by the provider: one line for all
				continue
			}
			suffix := ""
			if forces[k] {
				suffix = "   # forces replacement"
			}
			if !empty(before[k]) {
				lines = append(lines, "- "+k+" = "+format(before[k]))
			}
			lines = append(lines, "+ "+k+" = "+format(after[k])+suffix)
		}
		if len(later) > 0 {
			lines = append(lines, "  # known after apply: "+strings.Join(later, ", "))
		}
		if same > 0 {
			lines = append(lines, fmt.Sprintf("  # (%d unchanged attributes hidden)", same))
		}
	}
	return lines
}

// equalish compares two attribute values the way a reviewer would: null, "", 0, false,
// [] and {} are all "unset", so a provider normalising one into another is no change.
func equalish(a, b interface{}) bool {
	if zero(a) && zero(b) {
		return true
	}
	switch x := a.(type) {
	case map[string]interface{}:
		y, ok := b.(map[string]interface{})
		if !ok {
			return false
		}
		for k := range x {
			if !equalish(x[k], y[k]) {
				return false
			}
		}
		for k := range y {
			if _, seen := x[k]; !seen && !zero(y[k]) {
				return false
			}
		}
		return true
	case []interface{}:
		y, ok := b.([]interface{})
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalish(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func zero(v interface{}) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case float64:
		return x == 0
	case json.Number:
		return x.String() == "0"
	}
	return empty(v)
}

func boolKeys(m map[string]bool) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func headerVerb(c Change) string {
	var s string
	switch c.Kind {
	case Create:
		s = "will be created"
	case Update:
		s = "will be updated in place"
	case Replace:
		s = "must be replaced"
		if len(c.ReplacePaths) > 0 {
			s += " (forced by " + strings.Join(c.ReplacePaths, ", ") + ")"
		}
	case Destroy:
		s = "will be destroyed"
	case Read:
		s = "will be read during apply"
	case Forget:
		s = "will be removed from the state (the object itself is kept)"
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	if c.MovedFrom != "" {
		s += " (moved from " + c.MovedFrom + ")"
	}
	return s
}

// outputLines renders the changed root outputs as lines for the ```diff block. A multi-line
// string (a rendered config file) is shown as a line diff with one line of context, so that
// a one-line change in it is a one-line change in the review.
func outputLines(s Summary) []string {
	if len(s.Outputs) == 0 {
		return nil
	}
	var lines []string
	for _, name := range s.Outputs {
		ch := s.outputChanges[name]
		if ch == nil {
			continue
		}
		before := mask(ch.Before, ch.BeforeSensitive)
		after := mask(unknown(ch.After, ch.AfterUnknown), ch.AfterSensitive)
		switch {
		case ch.Actions.Delete():
			lines = append(lines, "# output."+name+" will be removed", "- "+name+" = "+format(before))
		case ch.Before == nil && !ch.Actions.Update():
			lines = append(lines, "# output."+name+" will be added", "+ "+name+" = "+format(after))
		default:
			lines = append(lines, "# output."+name+" will change")
			b, bok := before.(string)
			a, aok := after.(string)
			if bok && aok && (strings.Contains(b, "\n") || strings.Contains(a, "\n")) {
				lines = append(lines, textDiff(b, a)...)
			} else {
				lines = append(lines, "- "+name+" = "+format(before), "+ "+name+" = "+format(after))
			}
		}
		lines = append(lines, "")
	}
	if len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// textDiff is a line diff of two texts: "- " and "+ " lines, "  " for one line of context
// around each change, "  …" where unchanged lines are left out.
func textDiff(a, b string) []string {
	al := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	bl := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	if len(al)*len(bl) > 1_000_000 {
		var out []string
		for _, l := range al {
			out = append(out, "- "+l)
		}
		for _, l := range bl {
			out = append(out, "+ "+l)
		}
		return out
	}
	// lcs[i][j]: length of the longest common subsequence of al[i:] and bl[j:].
	lcs := make([][]int, len(al)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bl)+1)
	}
	for i := len(al) - 1; i >= 0; i-- {
		for j := len(bl) - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
	}
	var ops []op
	i, j := 0, 0
	for i < len(al) || j < len(bl) {
		switch {
		case i < len(al) && j < len(bl) && al[i] == bl[j]:
			ops = append(ops, op{' ', al[i]})
			i++
			j++
		case i < len(al) && (j == len(bl) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', al[i]})
			i++
		default:
			ops = append(ops, op{'+', bl[j]})
			j++
		}
	}
	// Keep changes and one line of context on either side.
	keep := make([]bool, len(ops))
	for k, o := range ops {
		if o.kind != ' ' {
			for c := k - 1; c <= k+1; c++ {
				if c >= 0 && c < len(ops) {
					keep[c] = true
				}
			}
		}
	}
	var out []string
	skipped := false
	for k, o := range ops {
		if !keep[k] {
			skipped = true
			continue
		}
		if skipped && len(out) > 0 {
			out = append(out, "  …")
		}
		skipped = false
		out = append(out, string(o.kind)+" "+o.text)
	}
	return out
}
