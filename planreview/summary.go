// Package planreview turns a Terraform plan into a review: a short markdown summary for a
// pull request (verdict, counts, per-resource actions, replaced-because, data-loss warnings,
// sensitive values masked, kept under GitHub's comment limit) or a plain-text one for a
// terminal. Render and Summarize are pure functions over terraform-json types; Run makes
// the plan with terraform-exec (`terraform plan -out`, then `terraform show -json`).
package planreview

import (
	"fmt"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Kind is what a plan does to one resource, in the words of the review.
type Kind string

const (
	Create  Kind = "create"
	Update  Kind = "update in place"
	Replace Kind = "replace"
	Destroy Kind = "destroy"
	Read    Kind = "read"
	Forget  Kind = "forget"
)

// Kinds lists every kind in the order the review shows them.
var Kinds = []Kind{Create, Update, Replace, Destroy, Read, Forget}

// Change is one resource instance that the plan changes.
type Change struct {
	Address string
	Type    string
	Kind    Kind
	// ReplacePaths are the attributes that force a replacement ("env", "ports[0].internal").
	ReplacePaths []string
	// Reason is Terraform's action reason in words ("no longer in the configuration").
	Reason string
	// MovedFrom is the previous address when the resource was moved.
	MovedFrom string
	// DataLoss says why applying this change loses stored data; empty when it does not.
	DataLoss string
	// Raw is the change as Terraform reported it.
	Raw *tfjson.ResourceChange
}

// Move is a resource whose state moves to a new address, unchanged.
type Move struct{ From, To string }

// Drift is one resource Terraform found changed outside Terraform while refreshing.
type Drift struct {
	Address string
	What    string // "deleted", "changed"
}

// Summary is what the review says about a plan.
type Summary struct {
	Changes []Change
	Counts  map[Kind]int
	// Outputs names the root outputs whose value changes.
	Outputs []string
	// outputChanges holds those changes, for the per-output diff.
	outputChanges map[string]*tfjson.Change
	Drift         []Drift
	// Incomplete is true when Terraform deferred some changes to a later plan.
	Incomplete bool
	// Moved are resources that only move to a new address (moved blocks): nothing changes.
	Moved []Move
	// Baseline says what the plan was compared against (the live state in a backend, a
	// local state, or nothing); Run sets it, Summarize leaves it empty.
	Baseline string
}

// HasChanges reports whether applying the plan would change anything: resources or outputs.
// It is what `-detailed-exitcode` reports as exit code 2.
func (s Summary) HasChanges() bool { return len(s.Changes) > 0 || len(s.Outputs) > 0 }

// DataLoss returns the changes that destroy stored data.
func (s Summary) DataLoss() []Change {
	var out []Change
	for _, c := range s.Changes {
		if c.DataLoss != "" {
			out = append(out, c)
		}
	}
	return out
}

// Summarize classifies every resource change of a plan. No-op changes are left out.
func Summarize(p *tfjson.Plan) Summary {
	s := Summary{Counts: map[Kind]int{}}
	if p == nil {
		return s
	}
	if p.Complete != nil && !*p.Complete {
		s.Incomplete = true
	}
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil {
			continue
		}
		kind, ok := kindOf(rc.Change.Actions)
		if !ok {
			if rc.PreviousAddress != "" {
				s.Moved = append(s.Moved, Move{From: rc.PreviousAddress, To: rc.Address})
			}
			continue
		}
		c := Change{
			Address:   rc.Address,
			Type:      rc.Type,
			Kind:      kind,
			Reason:    reasonText(rc.ActionReason),
			MovedFrom: rc.PreviousAddress,
			Raw:       rc,
		}
		if rc.DeposedKey != "" {
			c.Address += " (deposed " + rc.DeposedKey + ")"
		}
		for _, p := range rc.Change.ReplacePaths {
			c.ReplacePaths = append(c.ReplacePaths, pathString(p))
		}
		c.DataLoss = dataLoss(rc, kind)
		s.Changes = append(s.Changes, c)
		s.Counts[kind]++
	}
	for _, rc := range p.ResourceDrift {
		if rc == nil || rc.Change == nil {
			continue
		}
		// A provider that normalises null into {} on refresh is no drift worth a line.
		what := "changed"
		if rc.Change.Actions.Delete() || rc.Change.After == nil {
			what = "deleted"
		} else if equalish(rc.Change.Before, rc.Change.After) {
			continue
		}
		s.Drift = append(s.Drift, Drift{Address: rc.Address, What: what})
	}
	for name, oc := range p.OutputChanges {
		if oc == nil || oc.Actions.NoOp() || len(oc.Actions) == 0 {
			continue
		}
		s.Outputs = append(s.Outputs, name)
		if s.outputChanges == nil {
			s.outputChanges = map[string]*tfjson.Change{}
		}
		s.outputChanges[name] = oc
	}
	sort.Strings(s.Outputs)
	return s
}

// kindOf maps Terraform's action list to a review kind; false for no-op.
func kindOf(a tfjson.Actions) (Kind, bool) {
	switch {
	case a.Replace():
		return Replace, true
	case a.Create():
		return Create, true
	case a.Update():
		return Update, true
	case a.Delete():
		return Destroy, true
	case a.Read():
		return Read, true
	case len(a) == 1 && a[0] == tfjson.ActionForget:
		return Forget, true
	case len(a) == 2 && a[0] == tfjson.ActionCreate && a[1] == tfjson.ActionForget,
		len(a) == 2 && a[0] == tfjson.ActionForget && a[1] == tfjson.ActionCreate:
		// A new object replaces one that is only removed from state.
		return Create, true
	}
	return "", false
}

func reasonText(r tfjson.ActionReason) string {
	switch r {
	case tfjson.ActionReasonReplaceBecauseTainted:
		return "tainted"
	case tfjson.ActionReasonReplaceByRequest:
		return "replacement requested (-replace)"
	case tfjson.ActionReasonReplaceByTriggers:
		return "replace_triggered_by"
	case tfjson.ActionReasonDeleteBecauseNoResourceConfig:
		return "no longer in the configuration"
	case tfjson.ActionReasonDeleteBecauseWrongRepetition:
		return "count/for_each changed"
	case tfjson.ActionReasonDeleteBecauseCountIndex:
		return "count index out of range"
	case tfjson.ActionReasonDeleteBecauseEachKey:
		return "for_each key removed"
	case tfjson.ActionReasonDeleteBecauseNoModule:
		return "module removed"
	case tfjson.ActionReasonDeleteBecauseNoMoveTarget:
		return "moved to an address that does not exist"
	case tfjson.ActionReasonReadBecauseConfigUnknown:
		return "configuration known only after apply"
	case tfjson.ActionReasonReadBecauseDependencyPending:
		return "depends on pending changes"
	}
	return ""
}

// pathString renders a replace path (["ports", 0, "internal"]) as "ports[0].internal".
func pathString(p interface{}) string {
	steps, ok := p.([]interface{})
	if !ok {
		return fmt.Sprint(p)
	}
	var b strings.Builder
	for i, st := range steps {
		switch v := st.(type) {
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		case float64:
			fmt.Fprintf(&b, "[%d]", int64(v))
		default:
			fmt.Fprintf(&b, "[%v]", v)
		}
	}
	return b.String()
}

// dataLoss says why a change destroys stored data: a Docker volume that is destroyed or
// replaced, or a Postgres or Redis container that is destroyed or replaced while it keeps
// its data in its own writable layer or a tmpfs (no volume or bind mount).
func dataLoss(rc *tfjson.ResourceChange, kind Kind) string {
	if kind != Destroy && kind != Replace {
		return ""
	}
	verb := "destroyed"
	if kind == Replace {
		verb = "replaced"
	}
	before, _ := rc.Change.Before.(map[string]interface{})
	switch rc.Type {
	case "docker_volume":
		name, _ := before["name"].(string)
		if name == "" {
			return fmt.Sprintf("Docker volume is %s: everything stored in it is lost.", verb)
		}
		return fmt.Sprintf("Docker volume `%s` is %s: everything stored in it is lost.", name, verb)
	case "docker_container":
		store := dataStore(rc.Address, before)
		if store == "" {
			return ""
		}
		if !hasPersistentMount(before) {
			return fmt.Sprintf("%s container is %s and keeps its data without a volume: its data is lost.", store, verb)
		}
		// Its data was on a volume; a replacement that no longer mounts one starts empty.
		if after, ok := rc.Change.After.(map[string]interface{}); ok && kind == Replace && !hasPersistentMount(after) && !mountsUnknown(rc) {
			return fmt.Sprintf("%s container is replaced by one without a data volume: it starts empty, its data is not carried over.", store)
		}
	}
	return ""
}

// dataStore names the data store a container runs ("Postgres", "Redis"), or "".
func dataStore(address string, before map[string]interface{}) string {
	hay := []string{strings.ToLower(address)}
	if name, ok := before["name"].(string); ok {
		hay = append(hay, strings.ToLower(name))
	}
	if img, ok := before["image"].(string); ok {
		hay = append(hay, strings.ToLower(img))
	}
	if env, ok := before["env"].([]interface{}); ok {
		for _, e := range env {
			if s, ok := e.(string); ok {
				// The official image's environment contract; a client's DATABASE_URL does not count.
				switch k, _, _ := strings.Cut(s, "="); k {
				case "PGDATA", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_PASSWORD_FILE", "POSTGRES_DB":
					hay = append(hay, "postgres")
				}
			}
		}
	}
	for _, h := range hay {
		if strings.Contains(h, "postgres") {
			return "Postgres"
		}
	}
	for _, h := range hay {
		if strings.Contains(h, "redis") {
			return "Redis"
		}
	}
	return ""
}

// mountsUnknown reports whether the new container's volumes or mounts are known only after
// apply (then the review cannot tell).
func mountsUnknown(rc *tfjson.ResourceChange) bool {
	u, _ := rc.Change.AfterUnknown.(map[string]interface{})
	return u["volumes"] == true || u["mounts"] == true
}

// hasPersistentMount reports whether a container mounts a named volume or a host path.
func hasPersistentMount(before map[string]interface{}) bool {
	if vols, ok := before["volumes"].([]interface{}); ok {
		for _, v := range vols {
			m, _ := v.(map[string]interface{})
			if s, _ := m["volume_name"].(string); s != "" {
				return true
			}
			if s, _ := m["host_path"].(string); s != "" {
				return true
			}
		}
	}
	if mounts, ok := before["mounts"].([]interface{}); ok {
		for _, v := range mounts {
			m, _ := v.(map[string]interface{})
			if t, _ := m["type"].(string); t == "volume" || t == "bind" {
				return true
			}
		}
	}
	return false
}
