package main

import (
	"errors"
	"flag"
	"os"
	"reflect"
	"testing"
)

func TestParsePlanArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want planArgs
	}{
		{
			name: "flags before DIR",
			args: []string{"--markdown", "--detailed-exitcode", "-var-file", "a.tfvars", "-var-file=b.tfvars", "terraform/envs/shared"},
			want: planArgs{dir: "terraform/envs/shared", title: "terraform/envs/shared", varFiles: []string{"a.tfvars", "b.tfvars"}, markdown: true, detailed: true, lockWait: "60s"},
		},
		{
			name: "flags after DIR",
			args: []string{"env", "--detailed-exitcode", "--out", "plan.md", "--title", "shared"},
			want: planArgs{dir: "env", title: "shared", detailed: true, out: "plan.md", lockWait: "60s"},
		},
		{
			name: "backend and lock",
			args: []string{"--backend-config", "pg.hcl", "--lock-timeout", "5s", "shared"},
			want: planArgs{dir: "shared", title: "shared", backend: []string{"pg.hcl"}, lockWait: "5s"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePlanArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePlanArgsErrors(t *testing.T) {
	stderr := os.Stderr
	os.Stderr, _ = os.Open(os.DevNull) // the usage text
	defer func() { os.Stderr = stderr }()
	for _, args := range [][]string{{}, {"a", "b"}, {"--no-such-flag", "a"}, {"--lock-timeout", "soon", "a"}} {
		if _, err := parsePlanArgs(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
	if _, err := parsePlanArgs([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: got %v, want flag.ErrHelp", err)
	}
}
