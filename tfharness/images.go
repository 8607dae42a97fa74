package tfharness

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/dsenv/dsenv/internal/engine"
)

// imageVars are the root module's image variables the harness resolves. Not the DS's:
// the modules tell the reference DS (dsenv/datastorage) from any other by its name, which
// decides whether the DS's own migrations and a healthcheck are needed.
var imageVars = []string{"postgres_image", "redis_image", "migrate_image"}

// resolveImages replaces each image name of vars (the caller's, else the variable's
// default) by the local image's id through the Docker API, a few milliseconds each. The
// modules use an id as it is: no docker_image data source, whose lookup lists every local
// image through the provider, about 0.25 s of the time before the first container. A
// missing image fails here with what to do. With pull_images the names stay (the provider
// pulls them).
func (e *Env) resolveImages(ctx context.Context, d *engine.Client, vars map[string]any) error {
	if pull, _ := vars["pull_images"].(bool); pull {
		return nil
	}
	type ref struct{ name, image string }
	var refs []ref
	for _, name := range imageVars {
		if !e.tmpl.declares(name) {
			continue
		}
		image, _ := vars[name].(string)
		if image == "" {
			image = e.tmpl.defaultString(name)
		}
		if image == "" || strings.HasPrefix(image, "sha256:") {
			continue
		}
		refs = append(refs, ref{name, image})
	}
	ids := make([]string, len(refs))
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = d.ImageID(ctx, r.image)
		}()
	}
	wg.Wait()
	var missing []string
	for i, r := range refs {
		switch {
		case errs[i] == nil && strings.HasPrefix(ids[i], "sha256:"):
			vars[r.name] = ids[i]
		case engine.IsStatus(errs[i], http.StatusNotFound):
			missing = append(missing, r.image)
		}
		// Any other answer: the name stays and the provider looks it up.
	}
	if len(missing) > 0 {
		return stepError("images", fmt.Errorf("image(s) not found locally: %s (images are built locally, nothing is pulled: run `make setup`, or point DSENV_<SERVICE>_IMAGE at an image you have)",
			strings.Join(missing, ", ")))
	}
	return nil
}

// defaultString is the string default of a root module variable, "" when it has none.
// A root that passes its inputs on to modules/stack (default null) has it there.
func (t *template) defaultString(name string) string {
	if v := t.defaultIn(t.root, name); v != "" {
		return v
	}
	return t.defaultIn("modules/stack", name)
}

// defaultIn is the string default of variable name in the module at dir of the tree.
func (t *template) defaultIn(dir, name string) string {
	start := regexp.MustCompile(`(?m)^\s*variable\s+"` + regexp.QuoteMeta(name) + `"\s*\{`)
	def := regexp.MustCompile(`(?m)^\s*default\s*=\s*"([^"]*)"`)
	for _, f := range t.tree.files {
		if !strings.HasPrefix(f.path, dir+"/") || strings.Contains(strings.TrimPrefix(f.path, dir+"/"), "/") {
			continue
		}
		loc := start.FindIndex(f.data)
		if loc == nil {
			continue
		}
		block := f.data[loc[1]:]
		if next := regexp.MustCompile(`(?m)^variable\s`).FindIndex(block); next != nil {
			block = block[:next[0]]
		}
		if m := def.FindSubmatch(block); m != nil {
			return string(m[1])
		}
		return ""
	}
	return ""
}
