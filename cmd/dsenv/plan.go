package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dsenv/dsenv/planreview"
	"github.com/dsenv/dsenv/tfharness"
)

func init() {
	register("plan", "plan a root module and review the plan (--markdown for a pull request)", runPlan)
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

const planUsage = `usage: dsenv plan [flags] DIR

Runs terraform init, terraform plan -out and terraform show -json in DIR and prints a review:
verdict, counts by action, every resource change (replacements with the attribute that forces
them), a warning for anything that destroys data, sensitive values masked.

With --detailed-exitcode the exit code is 0 for no changes, 2 for changes, 1 for an error.
Credentials come from -var-file files or TF_VAR_* in the environment, never from argv.

flags:
`

func runPlan(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), planUsage)
		fs.PrintDefaults()
	}
	var (
		varFiles     stringList
		markdown     = fs.Bool("markdown", false, "print markdown for a pull-request comment instead of text")
		detailed     = fs.Bool("detailed-exitcode", false, "exit 0 for no changes, 2 for changes, 1 for an error")
		out          = fs.String("out", "", "write the review to this file instead of stdout")
		jsonOut      = fs.String("json", "", "also write the plan as terraform show -json to this file (mode 0600: it holds variable values, credentials included, in clear)")
		title        = fs.String("title", "", "title of the markdown review (default: DIR)")
		noInit       = fs.Bool("no-init", false, "skip terraform init (DIR is initialised already)")
		verbose      = fs.Bool("v", false, "show terraform's own output on stderr")
		pluginDir    = fs.String("plugin-dir", "", "provider mirror for terraform init (default: the dsenv cache's)")
		positionals  []string
		remainingArg = args
	)
	fs.Var(&varFiles, "var-file", "a tfvars file (repeatable)")
	// Flags may come before or after DIR.
	for {
		if err := fs.Parse(remainingArg); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positionals = append(positionals, fs.Arg(0))
		remainingArg = fs.Args()[1:]
	}
	if len(positionals) != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one DIR, got %d", len(positionals))
	}
	dir := positionals[0]

	opts := []tfharness.PlanOption{tfharness.PlanTitle(dir)}
	if *title != "" {
		opts = append(opts, tfharness.PlanTitle(*title))
	}
	for _, f := range varFiles {
		opts = append(opts, tfharness.PlanVarFile(f))
	}
	if *noInit {
		opts = append(opts, tfharness.PlanSkipInit())
	}
	if *pluginDir != "" {
		opts = append(opts, tfharness.PlanPluginDir(*pluginDir))
	}
	if *jsonOut != "" {
		opts = append(opts, tfharness.PlanJSONFile(*jsonOut))
	}
	if *verbose {
		opts = append(opts, tfharness.PlanOutput(os.Stderr, os.Stderr))
	}

	r, err := tfharness.PlanReview(ctx, dir, opts...)
	if err != nil {
		return err
	}
	review := r.Text
	if *markdown {
		review = r.Markdown
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		if err := os.WriteFile(*out, []byte(review), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, planreview.Verdict(r.Summary))
	} else {
		fmt.Fprint(w, review)
	}
	if *detailed {
		if code := planreview.ExitCode(r, nil); code != 0 {
			os.Exit(code)
		}
	}
	return nil
}
