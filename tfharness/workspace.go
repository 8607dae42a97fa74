package tfharness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/sweep"
	"github.com/dsenv/dsenv/internal/tfbin"
	dsterraform "github.com/dsenv/dsenv/terraform"
)

// A workspace is an environment's private copy of the module tree:
//
//	<base>/<id>/              the tree (env/, modules/...), mode 0700
//	<base>/<id>/<root>/       working directory: state, *.auto.tfvars.json, lock file
//	<base>/<id>/.tfdata/      TF_DATA_DIR: links to the initialised template's providers and modules
//
// `terraform init` runs once per process and tree (the template); every environment
// reuses its providers and module manifest, so an environment costs no init.

// treeFile is one source file of a module tree.
type treeFile struct {
	path string // slash-separated, relative to the tree
	data []byte
	mode fs.FileMode
}

// tree is a module tree read into memory: small, and hashed to key the template.
type tree struct {
	files []treeFile
	hash  string
}

// includeFile reports whether a file of a module tree is copied into workspaces: only
// Terraform sources and templates, never state, variable files (they may hold secrets),
// plans, lock files or .terraform directories.
func includeFile(p string) bool {
	base := path.Base(p)
	for _, dir := range strings.Split(path.Dir(p), "/") {
		if dir == ".terraform" || dir == sweep.DataDirName || (strings.HasPrefix(dir, ".") && dir != ".") {
			return false
		}
	}
	switch {
	case strings.HasPrefix(base, "."),
		strings.Contains(base, ".tfstate"),
		strings.HasSuffix(base, ".tfvars"), strings.HasSuffix(base, ".tfvars.json"),
		strings.HasSuffix(base, ".tfplan"):
		return false
	case strings.HasSuffix(base, ".tf"), strings.HasSuffix(base, ".tf.json"),
		strings.HasSuffix(base, ".tftpl"), strings.HasSuffix(base, ".tftest.hcl"):
		return true
	}
	return strings.Contains("/"+path.Dir(p)+"/", "/templates/")
}

func loadTree(fsys fs.FS) (*tree, error) {
	t := &tree{}
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == ".terraform" || d.Name() == sweep.DataDirName) {
				return fs.SkipDir
			}
			return nil
		}
		if !includeFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		t.files = append(t.files, treeFile{path: p, data: data, mode: mode})
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read module tree: %w", err)
	}
	if len(t.files) == 0 {
		return nil, errors.New("read module tree: no Terraform files found")
	}
	t.hash = hex.EncodeToString(h.Sum(nil))
	return t, nil
}

func (t *tree) write(dir string) error {
	for _, f := range t.files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// process holds what every environment of this process shares.
type process struct {
	base      string // private temporary directory, removed by the reaper after exit
	cacheDir  string
	cliConfig string

	mu        sync.Mutex
	templates map[string]*template
}

var (
	procOnce sync.Once
	proc     *process
	procErr  error
)

func sharedProcess() (*process, error) {
	procOnce.Do(func() {
		proc, procErr = newProcess()
	})
	return proc, procErr
}

func newProcess() (*process, error) {
	cacheDir, err := cache.Dir()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", sweep.WorkDirPrefix(os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	p := &process{base: base, cacheDir: cacheDir, templates: map[string]*template{}}
	// A CLI config of our own: the user's (TF_CLI_CONFIG_FILE, ~/.terraformrc) can neither
	// break provider installation nor send it to an unreachable registry.
	p.cliConfig = filepath.Join(base, "terraformrc")
	text := cache.CLIConfigText(cache.ProviderMirror(cacheDir)) + "disable_checkpoint = true\n"
	if err := os.WriteFile(p.cliConfig, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("write CLI config: %w", err)
	}
	return p, nil
}

// template is a module tree initialised once for one binary.
type template struct {
	dir      string // tree copy; <dir>/<root> holds the lock file
	dataDir  string
	root     string
	lock     []byte
	tree     *tree
	execPath string
	version  *version.Version
	initTime time.Duration
	ready    time.Time // when init finished
}

// embeddedTree is the dsenv module tree shipped inside the binary.
var embeddedTree = sync.OnceValues(func() (*tree, error) { return loadTree(dsterraform.FS) })

// tree is the module tree cfg applies: the embedded one unless WithModules.
func (c *config) tree() (*tree, error) {
	if c.modules == nil {
		return embeddedTree()
	}
	return loadTree(c.modules)
}

// template returns the initialised template for cfg's tree and binary, creating it on
// first use (first is true for the caller that created it).
func (p *process) template(ctx context.Context, cfg *config) (t *template, first bool, err error) {
	tr, err := cfg.tree()
	if err != nil {
		return nil, false, err
	}
	key := string(cfg.binary) + "-" + tr.hash[:16] + "-" + cfg.moduleRoot
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.templates[key]; ok {
		return t, false, nil
	}
	if _, err := os.Stat(cache.ProviderBinary(p.cacheDir, tfbin.ProviderHost(cfg.binary))); err != nil {
		return nil, false, fmt.Errorf("docker provider not in the mirror %s: run `make setup` (dsenv setup) first",
			cache.ProviderMirror(p.cacheDir))
	}
	execPath, v, err := tfbin.Find(ctx, cfg.binary, filepath.Join(p.cacheDir, "bin"))
	if err != nil {
		return nil, false, err
	}
	t = &template{
		dir: filepath.Join(p.base, "template-"+key), root: cfg.moduleRoot, tree: tr,
		execPath: execPath, version: v,
	}
	t.dataDir = filepath.Join(t.dir, sweep.DataDirName)
	if err := tr.write(t.dir); err != nil {
		return nil, false, fmt.Errorf("write template: %w", err)
	}
	wd := filepath.Join(t.dir, filepath.FromSlash(cfg.moduleRoot))
	if _, err := os.Stat(wd); err != nil {
		return nil, false, fmt.Errorf("root module %q not found in the module tree", cfg.moduleRoot)
	}
	tf, err := tfexec.NewTerraform(wd, execPath)
	if err != nil {
		return nil, false, err
	}
	if err := tf.SetEnv(tfbin.Env(map[string]string{
		"TF_CLI_CONFIG_FILE": p.cliConfig, "TF_DATA_DIR": t.dataDir,
	})); err != nil {
		return nil, false, err
	}
	var out bytes.Buffer
	tf.SetStdout(&out)
	tf.SetStderr(&out)
	start := time.Now()
	if err := tf.Init(ctx, tfexec.Upgrade(false), tfexec.Backend(true)); err != nil {
		return nil, false, fmt.Errorf("%s init: %w\n%s", cfg.binary, err, lastLines(out.String(), 30))
	}
	t.initTime = time.Since(start)
	if t.lock, err = os.ReadFile(filepath.Join(wd, ".terraform.lock.hcl")); err != nil {
		return nil, false, fmt.Errorf("%s init wrote no lock file: %w", cfg.binary, err)
	}
	t.ready = time.Now()
	p.templates[key] = t
	return t, true, nil
}

// workspace creates an environment's copy of the template in <base>/<id>.
// It returns the working directory (root module) and the data directory. With link,
// the data directory links to the template's providers and module manifest, so the
// environment needs no init; it must then never run init, which would rewrite the
// template's files through the links (the terratest bridge runs init: no link).
func (p *process) workspace(t *template, id string, link bool) (wd, dataDir string, err error) {
	dir := filepath.Join(p.base, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", "", err
	}
	if err := t.tree.write(dir); err != nil {
		return "", "", err
	}
	wd = filepath.Join(dir, filepath.FromSlash(t.root))
	if err := os.WriteFile(filepath.Join(wd, ".terraform.lock.hcl"), t.lock, 0o644); err != nil {
		return "", "", err
	}
	dataDir = filepath.Join(dir, sweep.DataDirName)
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return "", "", err
	}
	if !link {
		return wd, dataDir, nil
	}
	for _, sub := range []string{"providers", "modules"} {
		src := filepath.Join(t.dataDir, sub)
		if _, err := os.Stat(src); err != nil {
			continue // a tree without module calls has no manifest
		}
		if err := os.Symlink(src, filepath.Join(dataDir, sub)); err != nil {
			return "", "", err
		}
	}
	return wd, dataDir, nil
}

// workspaceRoot is the directory holding an environment's whole tree.
func (p *process) workspaceRoot(id string) string { return filepath.Join(p.base, id) }

// declares reports whether the root module declares the variable name.
func (t *template) declares(name string) bool {
	re := regexp.MustCompile(`(?m)^\s*variable\s+"` + regexp.QuoteMeta(name) + `"`)
	for _, f := range t.tree.files {
		if path.Dir(f.path) == t.root && re.Match(f.data) {
			return true
		}
	}
	return false
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
