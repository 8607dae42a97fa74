// Command dsenv sets up, starts, stops and inspects dsenv test environments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/dsenv/dsenv/internal/persistent"
)

// command is one dsenv subcommand; each lives in its own file and registers itself.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// privateFiles are the commands that drive Terraform or write data of an environment: they
// run with umask 077. (Not setup: the image build contexts it writes must stay readable in
// the images, whose services do not run as root.)
var privateFiles = map[string]bool{"up": true, "down": true, "plan": true, "backup": true, "restore": true}

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// Exit codes (dsenv help lists them).
const (
	exitOK          = 0
	exitFailure     = 1   // the command ran and failed (Terraform error, unhealthy container, ...)
	exitUsage       = 2   // unknown command, bad flag or argument
	exitPrereq      = 3   // a prerequisite is missing: Docker, `make setup`, an environment that is up
	exitInterrupted = 130 // Ctrl-C or SIGTERM
)

// usageError is a bad command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// prereqError is a missing prerequisite: exit 3. fix says what to do.
type prereqError struct {
	err error
	fix string
}

func (e *prereqError) Error() string {
	if e.fix == "" {
		return e.err.Error()
	}
	return e.err.Error() + ": " + e.fix
}
func (e *prereqError) Unwrap() error { return e.err }

func init() {
	register("help", "list the commands and exit codes; `dsenv help COMMAND` shows its flags", runHelp)
}

func writeHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: dsenv <command> [flags]   (from the repository root: go run ./cmd/dsenv <command>)\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, `
exit codes:
  %d    ok
  %d    failure (Terraform error, unhealthy container, nothing matched)
  %d    usage: unknown command, bad flag or argument
  %d    prerequisite missing: Docker not reachable, `+"`make setup`"+` not run, no environment up
  %d  interrupted (Ctrl-C, SIGTERM)
  plan --detailed-exitcode: 0 no changes, 1 error, 2 changes (as terraform plan)
`, exitOK, exitFailure, exitUsage, exitPrereq, exitInterrupted)
}

func runHelp(_ context.Context, args []string) error {
	if len(args) == 0 {
		writeHelp(os.Stdout)
		return nil
	}
	if _, ok := commands[args[0]]; !ok {
		return usagef("unknown command %q: `dsenv help` lists them", args[0])
	}
	return commands[args[0]].run(context.Background(), []string{"-h"})
}

// newFlagSet returns a flag set whose errors come back as one-line usage errors (see
// parse); -h prints the flags to stdout.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error; parse prints help itself
	synopses[name] = synopsis
	return fs
}

var synopses = map[string]string{}

// errHelp: -h was asked for and printed; exit 0.
var errHelp = flag.ErrHelp

// parse parses args with fs, turning a bad flag into a one-line usage error.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stdout, "usage: dsenv %s %s\n\n%s\n\nflags:\n", fs.Name(), synopses[fs.Name()], commands[fs.Name()].summary)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return errHelp
	}
	if err != nil {
		return usagef("%v: `dsenv help %s` lists the flags", err, fs.Name())
	}
	return nil
}

func exitCode(err error) int {
	var ue *usageError
	var pe *prereqError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &pe), errors.Is(err, persistent.ErrNotSetUp), errors.Is(err, persistent.ErrNotUp):
		return exitPrereq
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitFailure
}

func main() {
	if len(os.Args) < 2 {
		writeHelp(os.Stderr)
		os.Exit(exitUsage)
	}
	name := os.Args[1]
	switch name {
	case "-h", "--help":
		name = "help"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "dsenv: unknown command %q: `dsenv help` lists the commands\n", name)
		os.Exit(exitUsage)
	}
	if privateFiles[os.Args[1]] {
		// Terraform writes terraform.tfstate and its backup 0644 and a saved plan 0644, each
		// holding every password in clear. A process-wide umask (the CLI runs one command)
		// is the one setting that reaches the terraform child too: whatever it writes is
		// 0600, and its directories 0700.
		syscall.Umask(0o077)
	}
	// Ctrl-C cancels the context; commands clean up with a fresh one.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd.run(ctx, os.Args[2:])
	interrupted := ctx.Err() != nil
	stop()
	code := exitCode(err)
	if interrupted && err != nil {
		code = exitInterrupted
	}
	if code != exitOK {
		// One line: what went wrong and what to do.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
		fmt.Fprintf(os.Stderr, "dsenv %s: %s\n", name, msg)
	}
	os.Exit(code)
}
