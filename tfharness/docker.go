package tfharness

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
	"time"
)

// docker is a minimal client for the Docker Engine API: the handful of calls the harness
// needs to list, inspect, read logs of and remove labelled objects. Talking to the API
// directly (instead of the docker CLI or the SDK module) keeps teardown fast and keeps
// the Docker SDK out of the dependencies of every suite that imports tfharness.
type docker struct {
	http *http.Client
	base string // "http://docker" for a unix socket, "http://host:port" for tcp
}

var (
	dockerOnce   sync.Once
	dockerClient *docker
	dockerErr    error
)

// dockerFromEnv returns the process-wide client for $DOCKER_HOST (default the local socket).
func dockerFromEnv() (*docker, error) {
	dockerOnce.Do(func() { dockerClient, dockerErr = newDocker(os.Getenv("DOCKER_HOST")) })
	return dockerClient, dockerErr
}

func newDocker(host string) (*docker, error) {
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("DOCKER_HOST=%q: %w", host, err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	d := &docker{http: &http.Client{Transport: tr}}
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

// apiError is a non-2xx answer of the Docker API.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("docker API %d: %s", e.Status, e.Message) }

func isStatus(err error, codes ...int) bool {
	var ae *apiError
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

func (d *docker) do(ctx context.Context, method, path string, q url.Values, out any) ([]byte, error) {
	u := d.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("docker %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var m struct{ Message string }
		_ = json.Unmarshal(body, &m)
		if m.Message == "" {
			m.Message = strings.TrimSpace(string(body))
		}
		return nil, &apiError{Status: resp.StatusCode, Message: m.Message}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, fmt.Errorf("docker %s %s: decode: %w", method, path, err)
		}
	}
	return body, nil
}

// labelFilter encodes Docker's filters parameter for "label=k=v" (or "label=k") terms.
func labelFilter(terms ...string) url.Values {
	f, _ := json.Marshal(map[string][]string{"label": terms})
	return url.Values{"filters": {string(f)}}
}

// object is a labelled Docker object the harness may remove.
type object struct {
	Kind   string // "container", "network" or "volume"
	ID     string // id for containers and networks, name for volumes
	Name   string
	Labels map[string]string
	State  string // containers: running, exited, ...
}

func (d *docker) containers(ctx context.Context, terms ...string) ([]object, error) {
	var cs []struct {
		ID     string `json:"Id"`
		Names  []string
		Labels map[string]string
		State  string
	}
	q := labelFilter(terms...)
	q.Set("all", "1")
	if _, err := d.do(ctx, http.MethodGet, "/containers/json", q, &cs); err != nil {
		return nil, err
	}
	out := make([]object, 0, len(cs))
	for _, c := range cs {
		name := c.ID
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, object{Kind: "container", ID: c.ID, Name: name, Labels: c.Labels, State: c.State})
	}
	return out, nil
}

func (d *docker) networks(ctx context.Context, terms ...string) ([]object, error) {
	var ns []struct {
		ID     string `json:"Id"`
		Name   string
		Labels map[string]string
	}
	if _, err := d.do(ctx, http.MethodGet, "/networks", labelFilter(terms...), &ns); err != nil {
		return nil, err
	}
	out := make([]object, 0, len(ns))
	for _, n := range ns {
		out = append(out, object{Kind: "network", ID: n.ID, Name: n.Name, Labels: n.Labels})
	}
	return out, nil
}

func (d *docker) volumes(ctx context.Context, terms ...string) ([]object, error) {
	var vs struct {
		Volumes []struct {
			Name   string
			Labels map[string]string
		}
	}
	if _, err := d.do(ctx, http.MethodGet, "/volumes", labelFilter(terms...), &vs); err != nil {
		return nil, err
	}
	out := make([]object, 0, len(vs.Volumes))
	for _, v := range vs.Volumes {
		out = append(out, object{Kind: "volume", ID: v.Name, Name: v.Name, Labels: v.Labels})
	}
	return out, nil
}

// list returns every container, network and volume matching all label terms.
func (d *docker) list(ctx context.Context, terms ...string) ([]object, error) {
	var all []object
	for _, f := range []func(context.Context, ...string) ([]object, error){d.containers, d.networks, d.volumes} {
		objs, err := f(ctx, terms...)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	return all, nil
}

// remove deletes objects: containers first (forced, with their anonymous volumes, in
// parallel), then networks, then volumes. Objects already gone are not errors.
func (d *docker) remove(ctx context.Context, objs []object) error {
	var errs []error
	for _, kind := range []string{"container", "network", "volume"} {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, o := range objs {
			if o.Kind != kind {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := d.removeOne(ctx, o); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("remove %s %s: %w", o.Kind, o.Name, err))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

func (d *docker) removeOne(ctx context.Context, o object) error {
	var path string
	q := url.Values{}
	switch o.Kind {
	case "container":
		path = "/containers/" + o.ID
		q.Set("force", "1")
		q.Set("v", "1")
	case "network":
		path = "/networks/" + o.ID
	case "volume":
		path = "/volumes/" + url.PathEscape(o.ID)
		q.Set("force", "1")
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		_, err = d.do(ctx, http.MethodDelete, path, q, nil)
		switch {
		case err == nil, isStatus(err, http.StatusNotFound):
			return nil
		case o.Kind == "container" && isStatus(err, http.StatusConflict) &&
			strings.Contains(err.Error(), "already in progress"):
			return nil
		case isStatus(err, http.StatusConflict, http.StatusForbidden, http.StatusInternalServerError):
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

// containerState is the part of `docker inspect` the harness reports on failure.
type containerState struct {
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

func (d *docker) inspect(ctx context.Context, id string) (*containerState, error) {
	var st containerState
	if _, err := d.do(ctx, http.MethodGet, "/containers/"+id+"/json", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// logs returns the last tail lines of a container's stdout and stderr, interleaved.
func (d *docker) logs(ctx context.Context, id string, tail int, tty bool) (string, error) {
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

// createNetwork creates a labelled bridge network and returns its id.
func (d *docker) createNetwork(ctx context.Context, name string, labels map[string]string) (string, error) {
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
		return "", &apiError{Status: resp.StatusCode, Message: out.Message}
	}
	return out.ID, nil
}

// ping checks that the daemon answers.
func (d *docker) ping(ctx context.Context) error {
	_, err := d.do(ctx, http.MethodGet, "/_ping", nil, nil)
	if err != nil {
		return fmt.Errorf("docker daemon not reachable (is Docker running? DOCKER_HOST=%q): %w", os.Getenv("DOCKER_HOST"), err)
	}
	return nil
}
