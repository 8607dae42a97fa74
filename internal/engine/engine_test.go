package engine

import (
	"bytes"
	"encoding/binary"
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
