package engine

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
)

func frame(stream byte, s string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
	return append(h, s...)
}

func TestDemuxStripsFrameHeaders(t *testing.T) {
	b := append(frame(1, "out line\n"), frame(2, "err line\n")...)
	if got := demux(b); got != "out line\nerr line\n" {
		t.Errorf("demux = %q", got)
	}
	if got := demux([]byte("plain tty output\n")); got != "plain tty output\n" {
		t.Errorf("demux(tty) = %q", got)
	}
}

func TestNewDockerHosts(t *testing.T) {
	for host, ok := range map[string]bool{
		"": true, "unix:///run/docker.sock": true, "tcp://127.0.0.1:2375": true, "ssh://me@box": false,
	} {
		if _, err := New(host); (err == nil) != ok {
			t.Errorf("New(%q) err = %v", host, err)
		}
	}
}

func TestDemuxStreamCopiesFramePayloads(t *testing.T) {
	var b bytes.Buffer
	in := append(frame(1, "out line\n"), frame(2, "err ")...)
	in = append(in, frame(2, "line\n")...)
	if err := demuxStream(bytes.NewReader(in), &b); err != nil || b.String() != "out line\nerr line\n" {
		t.Errorf("demuxStream = %q, %v", b.String(), err)
	}
}

func TestHostPrefersDockerHostThenEngineThenUsualSockets(t *testing.T) {
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
	t.Setenv("DSENV_ENGINE", "podman")
	if h, _ := Host(); h != "tcp://127.0.0.1:2375" {
		t.Errorf("DOCKER_HOST set: Host() = %q", h)
	}
	t.Setenv("DOCKER_HOST", "")
	if h, _ := Host(); h != PodmanSocket {
		t.Errorf("DSENV_ENGINE=podman: Host() = %q", h)
	}
	t.Setenv("DSENV_ENGINE", "docker")
	if h, _ := Host(); h != DockerSocket {
		t.Errorf("DSENV_ENGINE=docker: Host() = %q", h)
	}
	t.Setenv("DSENV_ENGINE", "lxc")
	if _, err := Host(); err == nil {
		t.Error("DSENV_ENGINE=lxc accepted")
	}

	dir := t.TempDir()
	sock := dir + "/podman.sock"
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := hostFrom("unix://"+dir+"/docker.sock", "unix://"+sock); got != "unix://"+sock {
		t.Errorf("only the second socket exists: hostFrom = %q", got)
	}
	if got := hostFrom("unix://"+dir+"/a.sock", "unix://"+dir+"/b.sock"); got != "unix://"+dir+"/a.sock" {
		t.Errorf("no socket exists: hostFrom = %q, want the first", got)
	}
}
