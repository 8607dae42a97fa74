package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/progress"
)

func init() {
	register("down", "destroy the environment `dsenv up` created (terraform destroy; safe to repeat): the variables file and the kube PKI file stay (same credentials on the next up), the kube tokens file goes", runDown)
}

func runDown(ctx context.Context, args []string) error {
	fs := newFlagSet("down", "[--verbose]")
	dir := envDirFlag(fs)
	bin := fs.String("binary", "", "terraform or tofu (default $DSENV_TF_BINARY, else terraform)")
	verbose := fs.Bool("verbose", false, "show Terraform's own output")
	if err := parse(fs, args); err != nil {
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
	disp := progress.New(os.Stdout, progress.IsTerminal(os.Stdout))
	if !*verbose {
		p.Progress = func(ev persistent.Event) {
			switch ev.Phase {
			case persistent.Started:
				disp.Set(ev.Step, "terraform destroy", "", progress.Running)
			case persistent.Done:
				disp.Set(ev.Step, "terraform destroy", progress.Seconds(ev.Elapsed), progress.Done)
			case persistent.Failed:
				disp.Set(ev.Step, "terraform destroy", "failed after "+progress.Seconds(ev.Elapsed), progress.Failed)
			}
		}
	}
	id, idErr := p.EnvID()
	// Ctrl-C does not stop a destroy halfway: that would only leave more to clean up.
	n, err := p.Down(context.WithoutCancel(ctx))
	disp.Close()
	var tfErr *persistent.TerraformError
	if errors.As(err, &tfErr) {
		fmt.Fprintf(os.Stderr, "\n%s\n\n", tfErr.Blocks)
		return fmt.Errorf("terraform %s failed (its error is above): fix it and rerun, or add --verbose for Terraform's full output", tfErr.Step)
	}
	if err != nil {
		return err
	}
	if idErr != nil || n == 0 {
		fmt.Println("Nothing to remove: no environment is up here.")
		return nil
	}
	kept := relPath(p.VarsFile())
	if _, err := os.Stat(filepath.Join(d, persistent.KubePKIFileName)); err == nil {
		kept += " and " + relPath(filepath.Join(d, persistent.KubePKIFileName))
	}
	fmt.Printf("Environment %s removed (credentials kept in %s; delete them for new ones).\n", id, kept)
	return nil
}
