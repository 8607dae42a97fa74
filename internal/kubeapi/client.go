package kubeapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Client speaks kube-apiserver's REST API with JSON bodies: the few calls the bootstrap and
// the tests make do not justify client-go.
type Client struct {
	server string
	hc     *http.Client
	token  string // bearer token, when the identity is a token rather than a certificate
}

// NewClient returns a client of server (https://127.0.0.1:<port>) that trusts caPEM and,
// when certPEM is set, presents that client certificate.
func NewClient(server, caPEM, certPEM, keyPEM string) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, errors.New("kubeapi: no PEM certificate in the CA data")
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("kubeapi: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &Client{
		server: strings.TrimRight(server, "/"),
		hc:     &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}},
	}, nil
}

// FromKubeconfig returns a client for the current context of a kubeconfig (YAML or JSON)
// that carries its credentials inline: certificate-authority-data, and
// client-certificate-data/client-key-data or a token.
func FromKubeconfig(data []byte) (*Client, error) {
	var kc struct {
		Clusters []struct {
			Name    string `yaml:"name"`
			Cluster struct {
				Server string `yaml:"server"`
				CAData string `yaml:"certificate-authority-data"`
			} `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			Name string `yaml:"name"`
			User struct {
				CertData string `yaml:"client-certificate-data"`
				KeyData  string `yaml:"client-key-data"`
				Token    string `yaml:"token"`
			} `yaml:"user"`
		} `yaml:"users"`
		Contexts []struct {
			Name    string `yaml:"name"`
			Context struct {
				Cluster string `yaml:"cluster"`
				User    string `yaml:"user"`
			} `yaml:"context"`
		} `yaml:"contexts"`
		Current string `yaml:"current-context"`
	}
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	var cluster, user string
	for _, c := range kc.Contexts {
		if c.Name == kc.Current {
			cluster, user = c.Context.Cluster, c.Context.User
		}
	}
	if cluster == "" {
		return nil, fmt.Errorf("kubeconfig: current-context %q not found", kc.Current)
	}
	dec := func(what, s string) (string, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", fmt.Errorf("kubeconfig: %s: %w", what, err)
		}
		return string(b), nil
	}
	var c *Client
	for _, cl := range kc.Clusters {
		if cl.Name != cluster {
			continue
		}
		ca, err := dec("certificate-authority-data", cl.Cluster.CAData)
		if err != nil {
			return nil, err
		}
		var cert, key, token string
		for _, u := range kc.Users {
			if u.Name != user {
				continue
			}
			token = u.User.Token
			if u.User.CertData != "" {
				if cert, err = dec("client-certificate-data", u.User.CertData); err != nil {
					return nil, err
				}
				if key, err = dec("client-key-data", u.User.KeyData); err != nil {
					return nil, err
				}
			}
		}
		if c, err = NewClient(cl.Cluster.Server, ca, cert, key); err != nil {
			return nil, err
		}
		c.token = token
	}
	if c == nil {
		return nil, fmt.Errorf("kubeconfig: cluster %q not found", cluster)
	}
	return c, nil
}

// WithToken returns a copy of c that authenticates with a bearer token instead of its
// client certificate (the TLS trust stays).
func (c *Client) WithToken(token string) *Client {
	cc := *c
	t := c.hc.Transport.(*http.Transport).Clone()
	t.TLSClientConfig = t.TLSClientConfig.Clone()
	t.TLSClientConfig.Certificates = nil
	cc.hc = &http.Client{Timeout: c.hc.Timeout, Transport: t}
	cc.token = token
	return &cc
}

// Server is the URL the client talks to.
func (c *Client) Server() string { return c.server }

// APIError is an answer other than 2xx, with the Status object kube-apiserver sent.
type APIError struct {
	Method, Path string
	Code         int
	Status       Status
}

func (e *APIError) Error() string {
	msg := e.Status.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	return fmt.Sprintf("kube-apiserver: %s %s: %d %s: %s", e.Method, e.Path, e.Code, e.Status.Reason, msg)
}

// IsAlreadyExists reports whether err is kube-apiserver's 409 AlreadyExists.
func IsAlreadyExists(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusConflict && ae.Status.Reason == "AlreadyExists"
}

// Do sends in (JSON, unless nil) and decodes a 2xx answer into out (unless nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("kube-apiserver: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("kube-apiserver: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Method: method, Path: path, Code: resp.StatusCode}
		if json.Unmarshal(b, &ae.Status) != nil || ae.Status.Message == "" {
			ae.Status.Message = strings.TrimSpace(string(b))
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("kube-apiserver: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// WaitReady polls /readyz until it answers 200 or ctx ends; the error then carries the
// last answer (kube-apiserver lists the checks that fail).
func (c *Client) WaitReady(ctx context.Context) error {
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := c.hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, lastLines(string(b), 5))
		} else if ctx.Err() == nil || last == "" {
			last = err.Error() // a request cut short by ctx says less than the answer before it
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver %s/readyz not ready: %w (last answer: %s)", c.server, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
