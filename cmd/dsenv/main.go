// Command dsenv sets up, starts, stops and inspects dsenv test environments.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
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

func usage() {
	fmt.Fprintln(os.Stderr, "usage: dsenv <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "dsenv: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
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
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "dsenv %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
