package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dsenv/dsenv/internal/dsfiles"
)

// Images names the local images every stack starts. Nothing is pulled.
type Images struct {
	Postgres    string
	Redis       string
	Migrate     string
	DataStorage string
}

// Spec is one environment: its id (the dsenv.env label and name prefix), its generated
// secrets, and a private directory holding the rendered config and secrets files. Secrets
// never appear on a command line: containers read them from files.
type Spec struct {
	ID      string
	RunID   string
	Images  Images
	Dir     string // 0700; files inside are 0444 so that user 65534 in a container can read them
	PGPass  string
	RedisPW string
	Token   string
	Created time.Time
}

const (
	pgUser = "datastorage"
	pgDB   = "datastorage"
)

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// NewSpec generates secrets and renders the files of environment id under parent.
func NewSpec(parent, runID, id string, img Images) (*Spec, error) {
	dir := filepath.Join(parent, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &Spec{ID: id, RunID: runID, Images: img, Dir: dir,
		PGPass: randHex(16), RedisPW: randHex(16), Token: randHex(24), Created: time.Now()}
	cfg := dsfiles.Defaults()
	cfg.Database.MaxOpenConns, cfg.Database.MaxIdleConns = 10, 5
	cfg.Startup.ConnectInterval = "500ms"
	configYAML, err := cfg.YAML()
	if err != nil {
		return nil, err
	}
	store, err := dsfiles.StoreSecretsYAML(pgUser, s.PGPass, s.RedisPW)
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		"pg-password":        s.PGPass,
		"redis-password":     s.RedisPW,
		"dsn":                s.DSN("postgres", 5432),
		"config.yaml":        string(configYAML),
		"store-secrets.yaml": string(store),
		"api-tokens.yaml":    fmt.Sprintf("bench: %q\n", s.Token),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o444); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// File is the host path of one rendered file.
func (s *Spec) File(name string) string { return filepath.Join(s.Dir, name) }

// DSN is the Postgres URL as seen from host:port.
func (s *Spec) DSN(host string, port int) string {
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", pgUser, s.PGPass, host, port, pgDB)
}

// Labels go on every container and network a stack creates: dsenv.env identifies the
// environment, dsenv.bench the benchmark run (what the final sweep removes).
func (s *Spec) Labels() map[string]string {
	return map[string]string{
		"dsenv.env":       s.ID,
		"dsenv.bench":     s.RunID,
		"dsenv.bench.env": s.ID,
		"dsenv.owner":     owner(),
		"dsenv.created":   strconv.FormatInt(s.Created.Unix(), 10),
	}
}

func owner() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%d@%s", os.Getpid(), h)
}

// Where the rendered files appear inside the containers (read-only bind mounts or copies).
const (
	pgPasswordPath    = "/run/secrets/pg-password"
	redisPasswordPath = "/run/secrets/redis-password"
	dsnPath           = "/run/secrets/dsn"
	dsConfigDir       = "/etc/datastorage"
	dsSecretsDir      = "/etc/datastorage/secrets"
	pgDataDir         = "/var/lib/postgresql/data"
)

// pgCommand is the same throw-away Postgres configuration in every stack (data on tmpfs,
// no fsync), as dsenv's postgres_durable=false.
var pgCommand = []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}

// dsFiles maps rendered file names to their paths in the DS container.
var dsFiles = map[string]string{
	"config.yaml":        dsConfigDir + "/config.yaml",
	"store-secrets.yaml": dsSecretsDir + "/store-secrets.yaml",
	"api-tokens.yaml":    dsSecretsDir + "/api-tokens.yaml",
}
