// Package consumer_test uses dsenv the way another repository does: from the module zip
// that `go get` delivers, served here through a file:// GOPROXY, in directories outside
// this checkout.
package consumer_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

const dsenvModule = "github.com/dsenv/dsenv"

// published is the dsenv module version this test process packed and serves.
type published struct {
	version string
	proxy   string // the file:// GOPROXY directory
	err     error
}

var (
	pubOnce sync.Once
	pub     published
)

// publish packs the checkout (the files git tracks or would track: no state, no build
// outputs) as a module zip with golang.org/x/mod/zip and lays out a GOPROXY directory
// for it, once per test process. The version is new each run (a pseudo-version of now
// and HEAD), so the module cache never serves a stale copy.
func publish(t *testing.T) published {
	t.Helper()
	pubOnce.Do(func() { pub = doPublish() })
	if pub.err != nil {
		t.Fatal(pub.err)
	}
	return pub
}

func doPublish() published {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return published{err: err}
	}
	rev := "000000000000"
	if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil && len(out) >= 12 {
		rev = string(out[:12])
	}
	now := time.Now().UTC()
	version := "v0.0.0-" + now.Format("20060102150405") + "-" + rev
	m := module.Version{Path: dsenvModule, Version: version}

	dir, err := os.MkdirTemp("", "dsenv-goproxy-")
	if err != nil {
		return published{err: err}
	}
	src := filepath.Join(dir, "src")
	if err := copyTracked(root, src); err != nil {
		return published{err: err}
	}
	at := filepath.Join(dir, "proxy", filepath.FromSlash(dsenvModule), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return published{err: err}
	}
	zf, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		return published{err: err}
	}
	if err := modzip.CreateFromDir(zf, m, src); err != nil {
		zf.Close()
		return published{err: err}
	}
	if err := zf.Close(); err != nil {
		return published{err: err}
	}
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		return published{err: err}
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": now.Format(time.RFC3339)})
	for name, data := range map[string][]byte{"list": []byte(version + "\n"), version + ".info": info, version + ".mod": gomod} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			return published{err: err}
		}
	}
	return published{version: version, proxy: filepath.Join(dir, "proxy")}
}

// copyTracked copies the files `git ls-files` lists (tracked, plus untracked ones not
// ignored) from root into dst.
func copyTracked(root, dst string) error {
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return err
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(root, rel)
		st, err := os.Lstat(from)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or not a file
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// goEnv is the environment of a consumer's go command: the packed module first, then the
// machine's own proxy for everything else; no checksum database for the unpublished dsenv.
func goEnv(t *testing.T, p published) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatal(err)
	}
	upstream := strings.TrimSpace(string(out))
	env := []string{
		"GOPROXY=file://" + filepath.ToSlash(p.proxy) + "," + upstream,
		"GONOSUMDB=" + dsenvModule,
		"GOFLAGS=-mod=mod",
		"GOWORK=off",
	}
	var keep []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOPROXY", "GONOSUMDB", "GOFLAGS", "GOWORK", "GOPRIVATE", "GONOPROXY":
			continue
		}
		keep = append(keep, kv)
	}
	return append(keep, env...)
}

// run runs a command in dir with env and returns its combined output; it fails the test
// when the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// forget removes the packed version from the module cache and setup's build module for it
// (the versions are unique per run, so nothing else would ever use them).
func forget(t *testing.T, p published) {
	t.Cleanup(func() {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return
		}
		mc := strings.TrimSpace(string(out))
		ext := filepath.Join(mc, filepath.FromSlash(dsenvModule)+"@"+p.version)
		_ = filepath.Walk(ext, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		_ = os.RemoveAll(ext)
		dl, _ := filepath.Glob(filepath.Join(mc, "cache", "download", filepath.FromSlash(dsenvModule), "@v", p.version+".*"))
		for _, f := range dl {
			_ = os.Remove(f)
		}
		if cacheDir := dsenvCache(); cacheDir != "" {
			_ = os.RemoveAll(filepath.Join(cacheDir, "dsbuild", p.version))
		}
	})
}

// TestMain removes the GOPROXY directory once every test that serves from it is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if pub.proxy != "" {
		_ = os.RemoveAll(filepath.Dir(pub.proxy))
	}
	os.Exit(code)
}

func dsenvCache() string {
	if d := os.Getenv("DSENV_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "dsenv")
	}
	return ""
}

// Must show 2: setup from an empty module outside the checkout, through the module zip.
func TestSetupFromTheModuleZipInAnEmptyModule(t *testing.T) {
	p := publish(t)
	forget(t, p)
	dir := t.TempDir()
	env := goEnv(t, p)
	run(t, dir, env, "go", "mod", "init", "example.com/empty")
	// The checkout's own setup first (seconds when current), so the images are this code's.
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	run(t, root, os.Environ(), "go", "run", "./cmd/dsenv", "setup")
	out := run(t, dir, env, "go", "run", dsenvModule+"/cmd/dsenv@"+p.version, "setup")
	t.Log(out)
	// The reference DS built from the module zip has the same recipe as from the checkout.
	for _, img := range []string{"dsenv/datastorage:latest up to date", "dsenv/migrate:latest up to date"} {
		if !strings.Contains(out, img) {
			t.Errorf("setup from the module rebuilt what the checkout's setup had just built (want %q)", img)
		}
	}
	for _, want := range []string{"kreuzwerker/docker", "dsenv/datastorage:latest", "dsenv/migrate:latest", "setup: ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q", want)
		}
	}
	if !strings.Contains(out, "(cached)") {
		t.Errorf("the provider was rebuilt instead of taken from the cache:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "images")); err == nil {
		t.Errorf("setup wrote recipes into the consumer's directory")
	}
}

// Must show 3: the example consumer (examples/gateway), copied out of the checkout, set up
// and tested the way its README tells a consumer to.
func TestExampleGatewayConsumer(t *testing.T) {
	p := publish(t)
	forget(t, p)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "gateway"))); err != nil {
		t.Fatal(err)
	}
	env := goEnv(t, p)
	run(t, dir, env, "go", "mod", "edit", "-require="+dsenvModule+"@"+p.version)
	run(t, dir, env, "go", "mod", "tidy")
	t.Log(run(t, dir, env, "go", "run", dsenvModule+"/cmd/dsenv@"+p.version, "setup"))
	out := run(t, dir, env, "go", "test", "-count=1", "-v", "./...")
	t.Log(out)
	for _, want := range []string{"--- PASS: TestAlertIsAuditedAndReadBack", "--- PASS: TestUnknownTokenIsRejectedAndTheDeniedOneForbidden"} {
		if !strings.Contains(out, want) {
			t.Errorf("consumer suite output lacks %q", want)
		}
	}
}
