package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/dsenv/dsenv/internal/persistent"
)

func init() {
	register("down", "destroy the environment `dsenv up` created (terraform destroy; safe to repeat)", runDown)
}

func runDown(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	dir := envDirFlag(fs)
	bin := fs.String("binary", "", "terraform or tofu (default $DSENV_TF_BINARY, else terraform)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := persistentDir(*dir)
	if err != nil {
		return err
	}
	b, err := binaryFlag(*bin)
	if err != nil {
		return err
	}
	p := &persistent.Persistent{Dir: d, Binary: b, Output: os.Stderr}
	id, idErr := p.EnvID()
	// Ctrl-C does not stop a destroy halfway: that would only leave more to clean up.
	n, err := p.Down(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	if idErr != nil || n == 0 {
		fmt.Println("Nothing to remove: no environment is up here.")
		return nil
	}
	fmt.Printf("Environment %s removed (credentials kept in %s; delete it for new ones).\n", id, relPath(p.VarsFile()))
	return nil
}
