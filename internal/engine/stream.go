package engine

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// stream sends a GET and returns the open response body of a 2xx answer; the caller reads
// it until the context ends or the daemon closes it.
func (d *Client) stream(ctx context.Context, path string, q url.Values) (io.ReadCloser, error) {
	u := d.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker GET %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var m struct{ Message string }
		_ = json.Unmarshal(body, &m)
		if m.Message == "" {
			m.Message = strings.TrimSpace(string(body))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: m.Message}
	}
	return resp.Body, nil
}

// Event is one container event of the daemon's event stream (GET /events).
type Event struct {
	Action string // create, start, die, destroy, health_status: healthy, ...
	ID     string // container id
	Name   string // container name
	Labels map[string]string
	Time   time.Time
}

// Events streams the container events whose labels match all terms ("k=v" or "k"),
// from since on (zero: from now), to fn until ctx ends, the stream fails or fn returns
// false. It returns once the daemon has accepted the subscription, so no event after
// that point is missed; errs receives the stream's end (nil after ctx ends).
func (d *Client) Events(ctx context.Context, since time.Time, fn func(Event) bool, terms ...string) (errs <-chan error, err error) {
	f, _ := json.Marshal(map[string][]string{"type": {"container"}, "label": terms})
	q := url.Values{"filters": {string(f)}}
	if !since.IsZero() {
		q.Set("since", strconv.FormatInt(since.Unix(), 10))
	}
	body, err := d.stream(ctx, "/events", q)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		defer body.Close()
		dec := json.NewDecoder(body)
		for {
			var m struct {
				Action string
				Actor  struct {
					ID         string
					Attributes map[string]string
				}
				TimeNano int64 `json:"timeNano"`
			}
			if err := dec.Decode(&m); err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				done <- err
				return
			}
			ev := Event{Action: m.Action, ID: m.Actor.ID, Name: m.Actor.Attributes["name"],
				Labels: m.Actor.Attributes, Time: time.Unix(0, m.TimeNano)}
			if !fn(ev) {
				done <- nil
				return
			}
		}
	}()
	return done, nil
}

// FollowLogs copies a container's stdout and stderr to w from the last tail lines on
// (tail < 0: all), following new output until ctx ends or the container stops.
func (d *Client) FollowLogs(ctx context.Context, id string, tail int, tty bool, w io.Writer) error {
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}, "follow": {"1"}}
	if tail >= 0 {
		q.Set("tail", strconv.Itoa(tail))
	}
	body, err := d.stream(ctx, "/containers/"+id+"/logs", q)
	if err != nil {
		return err
	}
	defer body.Close()
	if tty {
		_, err = io.Copy(w, body)
	} else {
		err = demuxStream(body, w)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// demuxStream copies Docker's multiplexed log stream (8-byte frame headers) to w.
func demuxStream(r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	h := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, h); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(h[4:8]))
		if _, err := io.CopyN(w, br, n); err != nil {
			return err
		}
	}
}
