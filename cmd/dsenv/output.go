package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/persistent"
)

func init() {
	register("output", "print an output of the `make up` environment: NAME raw (secrets only when named), else a table of the non-secret ones", runOutput)
}

func runOutput(ctx context.Context, args []string) error {
	fs := newFlagSet("output", "[--json] [NAME]")
	dir := envDirFlag(fs)
	bin := fs.String("binary", "", "terraform or tofu (default $DSENV_TF_BINARY, else terraform)")
	asJSON := fs.Bool("json", false, "without NAME: the non-secret outputs as a JSON object (name => value)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("want at most one output NAME, got %d: `dsenv output` lists them", fs.NArg())
	}
	d, err := persistentDir(*dir)
	if err != nil {
		return &prereqError{err: err}
	}
	b, err := binaryFlag(*bin)
	if err != nil {
		return usagef("%v", err)
	}
	p := &persistent.Persistent{Dir: d, Binary: b}
	outputs, err := p.Outputs(ctx)
	if errors.Is(err, persistent.ErrNotUp) {
		return &prereqError{err: fmt.Errorf("no environment is up in %s", relPath(d)), fix: "run `make up` first"}
	}
	if err != nil {
		return err
	}
	if fs.NArg() == 1 {
		name := fs.Arg(0)
		m, ok := outputs[name]
		if !ok && (name == "api_token" || name == "denied_token") && outputString(outputs, "auth_backend") == persistent.AuthKube {
			return &prereqError{err: fmt.Errorf("the environment in %s runs the real Kubernetes API but no `dsenv up` minted its tokens", relPath(d)),
				fix: "run `make up AUTH_BACKEND=kube` (dsenv up --auth-backend kube)"}
		}
		if !ok {
			return usagef("no output %q: `dsenv output` lists them (secrets marked)", name)
		}
		fmt.Println(compactJSON(m.Value)) // raw: a string without quotes, as terraform output -raw
		if name == "api_token" || name == "denied_token" {
			if t, err := p.KubeTokens(); err == nil && outputString(outputs, "auth_backend") == persistent.AuthKube && time.Now().After(t.Expires) {
				fmt.Fprintf(os.Stderr, "dsenv output: this token expired at %s: run `make up AUTH_BACKEND=kube` for new ones\n", t.Expires.Local().Format(time.RFC3339))
			}
		}
		return nil
	}
	names := make([]string, 0, len(outputs))
	for n := range outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	if *asJSON {
		public := map[string]json.RawMessage{}
		for _, n := range names {
			if !outputs[n].Sensitive {
				public[n] = outputs[n].Value
			}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(public)
	}
	printOutputs(outputs, names)
	return nil
}

func printOutputs(outputs map[string]tfexec.OutputMeta, names []string) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE")
	for _, n := range names {
		v := compactJSON(outputs[n].Value)
		if outputs[n].Sensitive {
			v = "(secret: dsenv output " + n + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\n", n, v)
	}
	tw.Flush()
}
