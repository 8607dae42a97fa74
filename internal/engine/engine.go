// Package engine is a minimal client of the Docker Engine API (Docker, or Podman's
// compatible service) for what dsenv does itself: list, inspect, read logs of and
// remove labelled objects, and create networks.
package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client is a minimal client for the Docker Engine API: the handful of calls the harness
// needs to list, inspect, read logs of and remove labelled objects. Talking to the API
// directly (instead of the docker CLI or the SDK module) keeps teardown fast and keeps
// the Docker SDK out of the dependencies of every suite that imports tfharness.
type Client struct {
	http *http.Client
	base string // "http://docker" for a unix socket, "http://host:port" for tcp
}

var (
	dockerOnce   sync.Once
	dockerClient *Client
	dockerErr    error
)

// FromEnv returns the process-wide client for Host(): $DOCKER_HOST, else the usual socket
// of Docker or Podman.
func FromEnv() (*Client, error) {
	dockerOnce.Do(func() {
		host, err := Host()
		if err != nil {
			dockerErr = err
			return
		}
		dockerClient, dockerErr = New(host)
	})
	return dockerClient, dockerErr
}

// New returns a client for an Engine API address (unix:// or tcp://; "" is Docker's socket).
func New(host string) (*Client, error) {
	if host == "" {
		host = DockerSocket
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("DOCKER_HOST=%q: %w", host, err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	d := &Client{http: &http.Client{Transport: tr}}
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		}
		d.base = "http://docker"
	case "tcp", "http":
		if os.Getenv("DOCKER_TLS_VERIFY") != "" {
			return nil, fmt.Errorf("DOCKER_HOST=%q with DOCKER_TLS_VERIFY: TLS is not supported by the harness", host)
		}
		d.base = "http://" + u.Host
	default:
		return nil, fmt.Errorf("DOCKER_HOST=%q: only unix:// and tcp:// are supported", host)
	}
	return d, nil
}

// APIError is a non-2xx answer of the Docker API.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("docker API %d: %s", e.Status, e.Message) }

func IsStatus(err error, codes ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.Status == c {
			return true
		}
	}
	return false
}

func (d *Client) do(ctx context.Context, method, path string, q url.Values, out any) ([]byte, error) {
	return d.send(ctx, method, path, q, nil, out)
}

// post sends a JSON body.
func (d *Client) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	return d.send(ctx, http.MethodPost, path, nil, body, nil)
}

func (d *Client) send(ctx context.Context, method, path string, q url.Values, body []byte, out any) ([]byte, error) {
	u := d.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("docker %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var m struct{ Message string }
		_ = json.Unmarshal(b, &m)
		if m.Message == "" {
			m.Message = strings.TrimSpace(string(b))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: m.Message}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("docker %s %s: decode: %w", method, path, err)
		}
	}
	return b, nil
}

// labelFilter encodes Docker's filters parameter for "label=k=v" (or "label=k") terms.
func labelFilter(terms ...string) url.Values {
	f, _ := json.Marshal(map[string][]string{"label": terms})
	return url.Values{"filters": {string(f)}}
}

// Object is a labelled Docker object the harness may remove.
type Object struct {
	Kind   string // "container", "network" or "volume"
	ID     string // id for containers and networks, name for volumes
	Name   string
	Labels map[string]string
	State  string // containers: running, exited, ...
	// Published: a container publishing a host port. On Podman such containers are
	// removed last (see Remove).
	Published bool
}

func (d *Client) Containers(ctx context.Context, terms ...string) ([]Object, error) {
	var cs []struct {
		ID     string `json:"Id"`
		Names  []string
		Labels map[string]string
		State  string
		Ports  []struct{ PublicPort int }
	}
	q := labelFilter(terms...)
	q.Set("all", "1")
	if _, err := d.do(ctx, http.MethodGet, "/containers/json", q, &cs); err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(cs))
	for _, c := range cs {
		name := c.ID
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		o := Object{Kind: "container", ID: c.ID, Name: name, Labels: c.Labels, State: c.State}
		for _, p := range c.Ports {
			o.Published = o.Published || p.PublicPort != 0
		}
		out = append(out, o)
	}
	return out, nil
}

func (d *Client) Networks(ctx context.Context, terms ...string) ([]Object, error) {
	var ns []struct {
		ID     string `json:"Id"`
		Name   string
		Labels map[string]string
	}
	// Podman: its own endpoint. Podman 4.3's compatible list and inspect delete the
	// "isolate" option from the service's in-memory copy of each network they show, and
	// every container teardown after that runs netavark without it, which then leaves the
	// network's isolation rules behind (see reloadNetworks).
	path := "/networks"
	if d.onPodman(ctx) {
		path = "/v4.0.0/libpod/networks/json"
	}
	if _, err := d.do(ctx, http.MethodGet, path, labelFilter(terms...), &ns); err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(ns))
	for _, n := range ns {
		out = append(out, Object{Kind: "network", ID: n.ID, Name: n.Name, Labels: n.Labels})
	}
	return out, nil
}

// onPodman reports whether the engine is Podman (an unanswered /version counts as Docker).
func (d *Client) onPodman(ctx context.Context) bool {
	v, err := d.Version(ctx)
	return err == nil && v.Kind == Podman
}

var reloads atomic.Int64

// reloadNetworks makes Podman's service read its network definitions from disk again
// before containers are torn down. Its compatible network list and inspect (which the
// docker provider, the docker CLI and other clients use) delete the "isolate" option from
// the service's in-memory copy of the networks they show (Podman 4.3, the change of
// podman#15907); netavark 1.4, told no isolation, then leaves the network's
// NETAVARK_ISOLATION_1/2 rules. The service reloads the definitions, option included, once
// its configuration directory changed: creating and removing an empty network does that.
func (d *Client) reloadNetworks(ctx context.Context) error {
	name := fmt.Sprintf("dsenv-netreload-%d-%d", os.Getpid(), reloads.Add(1))
	body, _ := json.Marshal(map[string]any{"name": name, "driver": "bridge"})
	if _, err := d.post(ctx, "/v4.0.0/libpod/networks/create", body); err != nil {
		return fmt.Errorf("podman network reload: %w", err)
	}
	if _, err := d.do(ctx, http.MethodDelete, "/v4.0.0/libpod/networks/"+name, nil, nil); err != nil && !IsStatus(err, http.StatusNotFound) {
		return fmt.Errorf("podman network reload: remove %s: %w", name, err)
	}
	return nil
}

func (d *Client) Volumes(ctx context.Context, terms ...string) ([]Object, error) {
	var vs struct {
		Volumes []struct {
			Name   string
			Labels map[string]string
		}
	}
	if _, err := d.do(ctx, http.MethodGet, "/volumes", labelFilter(terms...), &vs); err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(vs.Volumes))
	for _, v := range vs.Volumes {
		out = append(out, Object{Kind: "volume", ID: v.Name, Name: v.Name, Labels: v.Labels})
	}
	return out, nil
}

// List returns every container, network and volume matching all label terms.
func (d *Client) List(ctx context.Context, terms ...string) ([]Object, error) {
	var all []Object
	for _, f := range []func(context.Context, ...string) ([]Object, error){d.Containers, d.Networks, d.Volumes} {
		objs, err := f(ctx, terms...)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	return all, nil
}

// Remove deletes objects: containers first (forced, with their anonymous volumes, in
// parallel), then networks, then volumes. Objects already gone are not errors.
//
// On Podman the service first rereads its network definitions (reloadNetworks); then the
// containers that publish no host port are removed, and only after them those that do:
// netavark 1.4 (Podman 4.3's) deletes a network's port-forwarding chain (nat
// NETAVARK-DN-<id>) only when the last container it tears down on that network has port
// mappings itself, and otherwise leaves the chain behind, empty.
func (d *Client) Remove(ctx context.Context, objs []Object) error {
	podman := d.onPodman(ctx)
	var errs []error
	phase := func(match func(Object) bool) {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, o := range objs {
			if !match(o) {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.removeOne(ctx, o, podman); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("remove %s %s: %w", o.Kind, o.Name, err))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	if podman {
		for _, o := range objs {
			if o.Kind == "container" {
				if err := d.reloadNetworks(ctx); err != nil {
					errs = append(errs, err)
				}
				break
			}
		}
		phase(func(o Object) bool { return o.Kind == "container" && !o.Published })
		phase(func(o Object) bool { return o.Kind == "container" && o.Published })
	} else {
		phase(func(o Object) bool { return o.Kind == "container" })
	}
	phase(func(o Object) bool { return o.Kind == "network" })
	phase(func(o Object) bool { return o.Kind == "volume" })
	return errors.Join(errs...)
}

func (d *Client) removeOne(ctx context.Context, o Object, podman bool) error {
	var path string
	q := url.Values{}
	switch o.Kind {
	case "container":
		path = "/containers/" + o.ID
		q.Set("force", "1")
		q.Set("v", "1")
	case "network":
		path = "/networks/" + o.ID
		// Podman answers 204 to removing a network that containers are still attached
		// to and leaves them on a deleted network (its bridge leaks): remove them first.
		if err := d.removeAttached(ctx, o.ID); err != nil {
			return err
		}
	case "volume":
		path = "/volumes/" + url.PathEscape(o.ID)
		q.Set("force", "1")
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		_, err = d.do(ctx, http.MethodDelete, path, q, nil)
		switch {
		case err == nil, IsStatus(err, http.StatusNotFound):
			return nil
		case o.Kind == "container" && IsStatus(err, http.StatusConflict) &&
			strings.Contains(err.Error(), "already in progress"):
			if podman {
				// Another remover (the reaper, a second teardown) is at it: the order
				// above holds only once it has finished.
				return d.waitGone(ctx, o.ID)
			}
			return nil
		case IsStatus(err, http.StatusConflict, http.StatusForbidden, http.StatusInternalServerError):
			// A network or volume still in use by a container that is being removed.
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
			}
		default:
			return err
		}
	}
	return err
}

// waitGone waits until a container no longer exists.
func (d *Client) waitGone(ctx context.Context, id string) error {
	for {
		_, err := d.do(ctx, http.MethodGet, "/containers/"+id+"/json", nil, nil)
		if IsStatus(err, http.StatusNotFound) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %s still being removed: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// removeAttached force-removes the containers still attached to a network (found by a
// container list, not by inspecting the network: see Networks).
func (d *Client) removeAttached(ctx context.Context, network string) error {
	f, _ := json.Marshal(map[string][]string{"network": {network}})
	var cs []struct {
		ID string `json:"Id"`
	}
	if _, err := d.do(ctx, http.MethodGet, "/containers/json", url.Values{"all": {"1"}, "filters": {string(f)}}, &cs); err != nil {
		return err
	}
	for _, c := range cs {
		_, err := d.do(ctx, http.MethodDelete, "/containers/"+c.ID, url.Values{"force": {"1"}, "v": {"1"}}, nil)
		if err != nil && !IsStatus(err, http.StatusNotFound) && !strings.Contains(err.Error(), "already in progress") {
			return fmt.Errorf("remove container %s attached to the network: %w", c.ID, err)
		}
	}
	return nil
}

// ContainerState is the part of `docker inspect` the harness reports on failure.
type ContainerState struct {
	Name   string
	Config struct {
		Tty bool
	}
	State struct {
		Status     string
		ExitCode   int
		Error      string
		OOMKilled  bool
		StartedAt  string
		FinishedAt string
		Health     *struct {
			Status        string
			FailingStreak int
			Log           []struct {
				Start    string
				End      string
				ExitCode int
				Output   string
			}
		}
	}
}

func (d *Client) Inspect(ctx context.Context, id string) (*ContainerState, error) {
	var st ContainerState
	if _, err := d.do(ctx, http.MethodGet, "/containers/"+id+"/json", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Logs returns the last tail lines of a container's stdout and stderr, interleaved.
func (d *Client) Logs(ctx context.Context, id string, tail int, tty bool) (string, error) {
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}, "timestamps": {"1"}, "tail": {fmt.Sprint(tail)}}
	body, err := d.do(ctx, http.MethodGet, "/containers/"+id+"/logs", q, nil)
	if err != nil {
		return "", err
	}
	if tty {
		return string(body), nil
	}
	return demux(body), nil
}

// demux strips the 8-byte frame headers of Docker's multiplexed log stream.
func demux(b []byte) string {
	var out bytes.Buffer
	for len(b) >= 8 {
		if b[0] > 2 || b[1] != 0 || b[2] != 0 || b[3] != 0 {
			out.Write(b) // not multiplexed after all
			return out.String()
		}
		n := int(binary.BigEndian.Uint32(b[4:8]))
		b = b[8:]
		if n > len(b) {
			n = len(b)
		}
		out.Write(b[:n])
		b = b[n:]
	}
	out.Write(b)
	return out.String()
}

// CreateNetwork creates a labelled bridge network and returns its id.
func (d *Client) CreateNetwork(ctx context.Context, name string, labels map[string]string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"Name": name, "Driver": "bridge", "CheckDuplicate": true, "Labels": labels,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/networks/create", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("docker create network: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		ID      string `json:"Id"`
		Message string `json:"message"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 {
		return "", &APIError{Status: resp.StatusCode, Message: out.Message}
	}
	return out.ID, nil
}

// Ping checks that the daemon answers.
func (d *Client) Ping(ctx context.Context) error {
	_, err := d.do(ctx, http.MethodGet, "/_ping", nil, nil)
	if err != nil {
		host, _ := Host()
		return fmt.Errorf("container engine not reachable at %s (is Docker or Podman's API service running? set DOCKER_HOST or DSENV_ENGINE): %w", host, err)
	}
	return nil
}

// ImageID returns the id (sha256:...) of a local image, by name or id. A missing image is
// an *APIError with Status 404.
func (d *Client) ImageID(ctx context.Context, ref string) (string, error) {
	var out struct {
		ID string `json:"Id"`
	}
	if _, err := d.do(ctx, http.MethodGet, "/images/"+ref+"/json", nil, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}
