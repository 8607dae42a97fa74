package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/tfbin"
	"github.com/dsenv/dsenv/planreview"
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

A root with a backend (terraform/envs/shared: pg) is planned against its live state: the
backend's credentials come from its environment variables (PG_CONN_STR, PGPASSWORD) or a 0600
--backend-config file. The plan waits up to --lock-timeout for the state lock and then fails
saying who holds it; it never writes the state (terraform plan refreshes in memory only), so a
read-only database role is enough. The review says what it compared against: the live state,
a local state, or nothing (a root without backend or state: everything shows as created).

flags:
`

// planArgs are the parsed flags of `dsenv plan`.
type planArgs struct {
	dir       string
	varFiles  []string
	markdown  bool
	detailed  bool
	out       string
	jsonOut   string
	title     string
	noInit    bool
	verbose   bool
	pluginDir string
	backend   []string
	lockWait  string
}

// parsePlanArgs parses flags placed before or after DIR. It returns flag.ErrHelp for -h.
func parsePlanArgs(args []string) (planArgs, error) {
	var a planArgs
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), planUsage)
		fs.PrintDefaults()
	}
	var varFiles stringList
	fs.Var(&varFiles, "var-file", "a tfvars file (repeatable)")
	fs.BoolVar(&a.markdown, "markdown", false, "print markdown for a pull-request comment instead of text")
	fs.BoolVar(&a.detailed, "detailed-exitcode", false, "exit 0 for no changes, 2 for changes, 1 for an error")
	fs.StringVar(&a.out, "out", "", "write the review to this file instead of stdout")
	fs.StringVar(&a.jsonOut, "json", "", "also write the plan as terraform show -json to this file (mode 0600: it holds variable values, credentials included, in clear)")
	fs.StringVar(&a.title, "title", "", "title of the markdown review (default: DIR)")
	fs.BoolVar(&a.noInit, "no-init", false, "skip terraform init (DIR is initialised already)")
	fs.BoolVar(&a.verbose, "v", false, "show terraform's own output on stderr")
	fs.StringVar(&a.pluginDir, "plugin-dir", "", "provider mirror for terraform init (default: the dsenv cache's)")
	var backend stringList
	fs.Var(&backend, "backend-config", "a backend settings file for terraform init, mode 0600 (repeatable)")
	fs.StringVar(&a.lockWait, "lock-timeout", "60s", "how long to wait for the state lock held by another run")

	var positionals []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return a, err
		}
		if fs.NArg() == 0 {
			break
		}
		positionals = append(positionals, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positionals) != 1 {
		fs.Usage()
		return a, fmt.Errorf("want exactly one DIR, got %d", len(positionals))
	}
	a.dir = positionals[0]
	a.varFiles = varFiles
	a.backend = backend
	if _, err := time.ParseDuration(a.lockWait); err != nil {
		return a, fmt.Errorf("--lock-timeout %q: want a duration such as 60s", a.lockWait)
	}
	if a.title == "" {
		a.title = a.dir
	}
	return a, nil
}

func runPlan(ctx context.Context, args []string) error {
	a, err := parsePlanArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}

	b, err := tfbin.FromEnv()
	if err != nil {
		return err
	}
	execPath, _, err := tfbin.Find(ctx, b, "")
	if err != nil {
		return err
	}
	o := planreview.Options{
		Dir: a.dir, ExecPath: execPath, VarFiles: a.varFiles, SkipInit: a.noInit,
		PluginDir: a.pluginDir, JSONFile: a.jsonOut, Render: planreview.RenderOptions{Title: a.title},
		BackendConfig: a.backend, LockTimeout: a.lockWait,
	}
	if o.PluginDir == "" && !o.SkipInit {
		o.PluginDir = providerMirror(b)
	}
	if a.verbose {
		o.Stdout, o.Stderr = os.Stderr, os.Stderr
	}
	r, err := planreview.Run(ctx, o)
	if err != nil {
		return err
	}
	review := r.Text
	if a.markdown {
		review = r.Markdown
	}
	if a.out != "" {
		if err := os.WriteFile(a.out, []byte(review), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, planreview.Verdict(r.Summary))
	} else {
		fmt.Print(review)
	}
	if a.detailed {
		if code := planreview.ExitCode(r, nil); code != 0 {
			os.Exit(code)
		}
	}
	return nil
}

// providerMirror returns the cache's provider mirror when it holds the provider for b.
func providerMirror(b tfbin.Binary) string {
	dir, err := cache.Dir()
	if err != nil {
		return ""
	}
	if _, err := os.Stat(cache.ProviderBinary(dir, tfbin.ProviderHost(b))); err != nil {
		return ""
	}
	return cache.ProviderMirror(dir)
}
