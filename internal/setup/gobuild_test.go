package setup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoBuildFailureNamesTheToolAndLogAndInstallsNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.test/broken\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefinedCall() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := goBuild{
		what: "the test tool", dir: dir, pkg: ".",
		tmp: filepath.Join(dir, "tool.tmp"), dest: filepath.Join(dir, "bin", "tool"),
		log: filepath.Join(dir, "build.log"), goflag: "-mod=mod",
	}
	err := b.run(context.Background())
	if err == nil {
		t.Fatal("a package that does not compile built")
	}
	for _, want := range []string{"build the test tool", b.log, "undefined: undefinedCall"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := os.Stat(b.dest); !os.IsNotExist(err) {
		t.Errorf("dest exists after a failed build: %v", err)
	}
	if _, err := os.Stat(b.tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
	if log, _ := os.ReadFile(b.log); !strings.Contains(string(log), "undefinedCall") {
		t.Errorf("build log %q lacks the compiler's error", log)
	}
}
