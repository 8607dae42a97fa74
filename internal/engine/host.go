package engine

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
)

// The engines' usual sockets: Docker's, then rootful Podman's API service
// (`podman system service unix:///run/podman/podman.sock`, or its systemd socket unit).
const (
	DockerSocket = "unix:///var/run/docker.sock"
	PodmanSocket = "unix:///run/podman/podman.sock"
)

// Host is the Engine API address every dsenv component uses (the harness, the docker
// provider through DOCKER_HOST, the docker CLI in setup): $DOCKER_HOST when set; else
// DSENV_ENGINE=docker or podman picks that engine's usual socket; else the first of
// Docker's and Podman's usual sockets that exists.
func Host() (string, error) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h, nil
	}
	switch e := os.Getenv("DSENV_ENGINE"); e {
	case "docker":
		return DockerSocket, nil
	case "podman":
		return PodmanSocket, nil
	case "", "auto":
		return hostFrom(DockerSocket, PodmanSocket), nil
	default:
		return "", fmt.Errorf("DSENV_ENGINE=%q: want docker, podman or auto (or set DOCKER_HOST)", e)
	}
}

// hostFrom returns the first candidate whose socket exists, else the first candidate.
func hostFrom(candidates ...string) string {
	for _, c := range candidates {
		if st, err := os.Stat(strings.TrimPrefix(c, "unix://")); err == nil && st.Mode()&os.ModeSocket != 0 {
			return c
		}
	}
	return candidates[0]
}

// Kind is the engine behind the API: "docker" or "podman".
type Kind string

const (
	Docker Kind = "docker"
	Podman Kind = "podman"
)

// Version is what the engine says about itself.
type Version struct {
	Kind    Kind
	Version string // the engine's own version (Podman's, not its API's)
}

func (v Version) String() string {
	if v.Kind == Podman {
		return "Podman " + v.Version
	}
	return "Docker Engine " + v.Version
}

var versions sync.Map // base URL -> Version

// Version asks the engine what it is (GET /version; Podman names itself in Components).
func (d *Client) Version(ctx context.Context) (Version, error) {
	if v, ok := versions.Load(d.base); ok {
		return v.(Version), nil
	}
	var out struct {
		Version    string
		Components []struct{ Name, Version string }
	}
	if _, err := d.do(ctx, http.MethodGet, "/version", nil, &out); err != nil {
		return Version{}, err
	}
	v := Version{Kind: Docker, Version: out.Version}
	for _, c := range out.Components {
		if strings.Contains(c.Name, "Podman") {
			v = Version{Kind: Podman, Version: c.Version}
		}
	}
	versions.Store(d.base, v)
	return v, nil
}
