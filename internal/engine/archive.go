package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// File is one regular file read out of a container: its tar header (mode, uid, gid as the
// container's filesystem has them) and its content.
type File struct {
	Header  *tar.Header
	Content []byte
}

// ReadFile reads one file of a container, running or not, through the archive endpoint
// (GET /containers/{id}/archive?path=...): no exec, so it works for a FROM scratch image.
func (d *Client) ReadFile(ctx context.Context, id, path string) (*File, error) {
	body, err := d.do(ctx, http.MethodGet, "/containers/"+id+"/archive", url.Values{"path": {path}}, nil)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(bytes.NewReader(body))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: not in the archive of container %s", path, id)
		}
		if err != nil {
			return nil, fmt.Errorf("archive of %s in %s: %w", path, id, err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s in container %s is not a regular file (tar type %q)", path, id, h.Typeflag)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("archive of %s in %s: %w", path, id, err)
		}
		return &File{Header: h, Content: b}, nil
	}
}

// Stop stops a container at once (SIGKILL after 0 s); an already stopped one is not an error.
func (d *Client) Stop(ctx context.Context, id string) error {
	_, err := d.do(ctx, http.MethodPost, "/containers/"+id+"/stop", url.Values{"t": {"0"}}, nil)
	if IsStatus(err, http.StatusNotModified) {
		return nil
	}
	return err
}

// PrepareTeardown readies, on Podman, the environment matching all label terms for a
// removal in an order of its own (terraform destroy): the service rereads its network
// definitions (see reloadNetworks), and the running containers that publish no host port
// stop, since netavark 1.4 deletes a network's port-forwarding chain only when the last
// container it tears down there has port mappings (see Remove). On Docker: nothing.
func (d *Client) PrepareTeardown(ctx context.Context, terms ...string) error {
	if !d.onPodman(ctx) {
		return nil
	}
	if err := d.reloadNetworks(ctx); err != nil {
		return err
	}
	cs, err := d.Containers(ctx, terms...)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if c.Published || c.State != "running" {
			continue
		}
		if err := d.Stop(ctx, c.ID); err != nil && !IsStatus(err, http.StatusNotFound) {
			errs = append(errs, fmt.Errorf("stop %s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}
