// Package backup saves and restores the data of a dsenv environment (the shared one, as a
// rule): the DS's PostgreSQL database and its Redis streams (the dead-letter queue), with a
// manifest that lets a restore check it got everything back.
//
// Consistency: the DS is the only writer of both. Backup stops the DS container for the
// duration (and starts it again), so no event is half in PostgreSQL and half in the queue;
// pg_dump itself reads one transaction snapshot. Every command runs inside the environment's
// own containers (`docker exec`): pg_dump and pg_restore over the local socket, redis-cli with
// the password file the redis module uploads, so no credential passes through argv or disk.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// File names inside a backup directory.
const (
	ManifestFile = "manifest.json"
	DatabaseFile = "datastorage.pgdump"  // pg_dump --format=custom
	StreamsFile  = "redis-streams.jsonl" // one stream per line
)

// redisPasswordFile is where terraform/modules/redis uploads the password (0444).
const redisPasswordFile = "/usr/local/etc/redis/password"

// Manifest describes a backup.
type Manifest struct {
	Format      int       `json:"format"`
	Env         string    `json:"env"`
	Created     time.Time `json:"created"`
	DSImage     string    `json:"datastorage_image"`
	DSWasUp     bool      `json:"datastorage_was_running"`
	Postgres    PGPart    `json:"postgres"`
	Redis       RedisPart `json:"redis"`
	Consistency string    `json:"consistency"`
}

// PGPart is the database part of a backup.
type PGPart struct {
	Version  string           `json:"version"`
	Database string           `json:"database"`
	User     string           `json:"user"`
	File     string           `json:"file"`
	Bytes    int64            `json:"bytes"`
	SHA256   string           `json:"sha256"`
	Rows     map[string]int64 `json:"rows"` // table (schema.name) -> rows
}

// RedisPart is the Redis part of a backup.
type RedisPart struct {
	Version string           `json:"version"`
	File    string           `json:"file"`
	Bytes   int64            `json:"bytes"`
	SHA256  string           `json:"sha256"`
	Streams map[string]int64 `json:"streams"` // key -> entries
}

// Stream is one Redis stream as saved: every entry with its id and fields in order, the
// last generated id and the consumer groups.
type Stream struct {
	Key     string   `json:"key"`
	LastID  string   `json:"last_id"`
	Groups  []string `json:"groups"`
	Entries []Entry  `json:"entries"`
}

// Entry is one stream entry.
type Entry struct {
	ID     string   `json:"id"`
	Fields []string `json:"fields"` // name, value, name, value...
}

// Options name the environment and the directory.
type Options struct {
	Env string // name_prefix: containers <Env>-postgres, <Env>-redis, <Env>-datastorage
	Dir string
	// KeepStopped leaves the DS stopped after a restore (to look at the data first).
	KeepStopped bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

func (o Options) container(service string) string { return o.Env + "-" + service }

// Backup writes the database dump, the streams and the manifest into o.Dir (created 0700;
// files 0600). The DS is stopped meanwhile and started again.
func Backup(ctx context.Context, o Options) (*Manifest, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(o.Dir, 0o700); err != nil {
		return nil, err
	}
	m := &Manifest{Format: 1, Env: o.Env, Created: time.Now().UTC(),
		Consistency: "DS stopped during the backup (no writer); pg_dump reads one transaction snapshot"}
	pg, rd, ds := o.container("postgres"), o.container("redis"), o.container("datastorage")
	user, db, err := pgIdentity(ctx, pg)
	if err != nil {
		return nil, err
	}
	m.Postgres.User, m.Postgres.Database = user, db
	m.DSImage, _ = dockerOut(ctx, nil, "inspect", "--format", "{{.Config.Image}}", ds)

	restart, err := stopDS(ctx, o, ds)
	if err != nil {
		return nil, err
	}
	m.DSWasUp = restart != nil
	if restart != nil {
		defer restart()
	}

	if m.Postgres.Version, err = psql(ctx, pg, user, db, "SHOW server_version"); err != nil {
		return nil, err
	}
	if m.Postgres.Rows, err = rowCounts(ctx, pg, user, db); err != nil {
		return nil, err
	}
	m.Postgres.File = DatabaseFile
	o.logf("pg_dump of %s in %s", db, pg)
	if err := dockerToFile(ctx, filepath.Join(o.Dir, DatabaseFile),
		"exec", pg, "pg_dump", "--username", user, "--dbname", db, "--format=custom", "--no-owner"); err != nil {
		return nil, fmt.Errorf("pg_dump: %w", err)
	}
	if m.Postgres.Bytes, m.Postgres.SHA256, err = fileSum(filepath.Join(o.Dir, DatabaseFile)); err != nil {
		return nil, err
	}

	o.logf("Redis streams of %s", rd)
	r := redisCLI{container: rd}
	info, err := r.run(ctx, nil, "INFO", "server")
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			m.Redis.Version = v
		}
	}
	streams, err := r.dumpStreams(ctx)
	if err != nil {
		return nil, err
	}
	m.Redis.File, m.Redis.Streams = StreamsFile, map[string]int64{}
	var buf bytes.Buffer
	for _, s := range streams {
		line, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		buf.Write(append(line, '\n'))
		m.Redis.Streams[s.Key] = int64(len(s.Entries))
	}
	if err := os.WriteFile(filepath.Join(o.Dir, StreamsFile), buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	if m.Redis.Bytes, m.Redis.SHA256, err = fileSum(filepath.Join(o.Dir, StreamsFile)); err != nil {
		return nil, err
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, ManifestFile), append(mb, '\n'), 0o600); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadManifest reads and checks a backup directory: the manifest and the checksums of its
// files.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	if m.Format != 1 {
		return nil, fmt.Errorf("%s: format %d, want 1", ManifestFile, m.Format)
	}
	for _, f := range []struct{ name, sum string }{{m.Postgres.File, m.Postgres.SHA256}, {m.Redis.File, m.Redis.SHA256}} {
		if filepath.Base(f.name) != f.name || f.name == "" {
			return nil, fmt.Errorf("%s: bad file name %q", ManifestFile, f.name)
		}
		_, sum, err := fileSum(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		if sum != f.sum {
			return nil, fmt.Errorf("%s: sha256 %s, the manifest says %s: the backup is damaged", f.name, sum, f.sum)
		}
	}
	return &m, nil
}

// Restore puts a backup into the environment o.Env (a fresh one, as a rule): the database is
// replaced by the dump (restored into a new database in one transaction, which then takes
// the old one's place), each saved stream is replaced
// by its entries with their ids, last id and consumer groups (read from the start again:
// an entry a consumer had read but not acknowledged is delivered again). Then it checks
// rows and stream lengths against the manifest and starts the DS again unless KeepStopped.
func Restore(ctx context.Context, o Options) (*Manifest, error) {
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return nil, err
	}
	pg, rd, ds := o.container("postgres"), o.container("redis"), o.container("datastorage")
	user, db, err := pgIdentity(ctx, pg)
	if err != nil {
		return nil, err
	}
	restart, err := stopDS(ctx, o, ds)
	if err != nil {
		return nil, err
	}
	if restart != nil && !o.KeepStopped {
		defer restart()
	}

	// Into a new database first, which replaces the old one only once pg_restore succeeded:
	// a failed restore leaves the environment's data as it was. (pg_restore --clean cannot
	// drop the partitions' inherited constraints.)
	tmp := db + "_dsenv_restore"
	o.logf("pg_restore into %s in %s", tmp, pg)
	if _, err := psql(ctx, pg, user, "postgres", fmt.Sprintf(
		`DROP DATABASE IF EXISTS %[1]s WITH (FORCE); CREATE DATABASE %[1]s OWNER %[2]s;`, quoteIdent(tmp), quoteIdent(user))); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(o.Dir, m.Postgres.File))
	if err != nil {
		return nil, err
	}
	_, err = dockerOut(ctx, f, "exec", "-i", pg, "pg_restore", "--username", user, "--dbname", tmp,
		"--no-owner", "--single-transaction", "--exit-on-error")
	f.Close()
	if err != nil {
		_, _ = psql(context.WithoutCancel(ctx), pg, user, "postgres", "DROP DATABASE IF EXISTS "+quoteIdent(tmp)+" WITH (FORCE)")
		return nil, fmt.Errorf("pg_restore (the database %s is unchanged): %w", db, err)
	}
	if _, err := psql(ctx, pg, user, "postgres", fmt.Sprintf(
		`DROP DATABASE IF EXISTS %[1]s WITH (FORCE); ALTER DATABASE %[2]s RENAME TO %[1]s;`, quoteIdent(db), quoteIdent(tmp))); err != nil {
		return nil, err
	}
	rows, err := rowCounts(ctx, pg, user, db)
	if err != nil {
		return nil, err
	}
	for table, want := range m.Postgres.Rows {
		if rows[table] != want {
			return nil, fmt.Errorf("after the restore %s has %d rows, the backup %d", table, rows[table], want)
		}
	}

	b, err := os.ReadFile(filepath.Join(o.Dir, m.Redis.File))
	if err != nil {
		return nil, err
	}
	r := redisCLI{container: rd}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var s Stream
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Redis.File, err)
		}
		o.logf("stream %s: %d entries", s.Key, len(s.Entries))
		if err := r.restoreStream(ctx, s); err != nil {
			return nil, fmt.Errorf("restore stream %s: %w", s.Key, err)
		}
		n, err := r.run(ctx, nil, "XLEN", s.Key)
		if err != nil {
			return nil, err
		}
		if got, _ := strconv.ParseInt(n, 10, 64); got != m.Redis.Streams[s.Key] {
			return nil, fmt.Errorf("after the restore stream %s has %d entries, the backup %d", s.Key, got, m.Redis.Streams[s.Key])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// stopDS stops the DS container if it runs and returns the function that starts it again
// (nil when it was not running).
func stopDS(ctx context.Context, o Options, ds string) (func(), error) {
	state, err := dockerOut(ctx, nil, "inspect", "--format", "{{.State.Running}}", ds)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", o.Env, err)
	}
	if state != "true" {
		return nil, nil
	}
	o.logf("stopping %s (no writes meanwhile)", ds)
	if _, err := dockerOut(ctx, nil, "stop", "--time", "30", ds); err != nil {
		return nil, err
	}
	return func() {
		o.logf("starting %s again", ds)
		if _, err := dockerOut(context.WithoutCancel(ctx), nil, "start", ds); err != nil {
			o.logf("start %s: %v (start it by hand: docker start %s)", ds, err, ds)
		}
	}, nil
}

// pgIdentity reads the database user and name from the PostgreSQL container's environment.
func pgIdentity(ctx context.Context, pg string) (user, db string, err error) {
	env, err := dockerOut(ctx, nil, "inspect", "--format", `{{range .Config.Env}}{{println .}}{{end}}`, pg)
	if err != nil {
		return "", "", fmt.Errorf("PostgreSQL container: %w", err)
	}
	for _, l := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(l, "POSTGRES_USER="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(l, "POSTGRES_DB="); ok {
			db = v
		}
	}
	if user == "" {
		user = "postgres"
	}
	if db == "" {
		db = user
	}
	return user, db, nil
}

func psql(ctx context.Context, pg, user, db, query string) (string, error) {
	out, err := dockerOut(ctx, strings.NewReader(query), "exec", "-i", pg,
		"psql", "--username", user, "--dbname", db, "-XAtq", "-v", "ON_ERROR_STOP=1")
	if err != nil {
		return "", fmt.Errorf("psql: %w", err)
	}
	return out, nil
}

// rowCounts counts the rows of every table outside the system schemas.
func rowCounts(ctx context.Context, pg, user, db string) (map[string]int64, error) {
	list, err := psql(ctx, pg, user, db, `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename)
FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	var q strings.Builder
	tables := strings.Fields(list)
	for i, t := range tables {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, "SELECT '%s', count(*) FROM %s", strings.ReplaceAll(t, "'", "''"), t)
	}
	if len(tables) == 0 {
		return counts, nil
	}
	out, err := psql(ctx, pg, user, db, q.String())
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(out, "\n") {
		name, n, ok := strings.Cut(l, "|")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("row count %q: %w", l, err)
		}
		counts[name] = v
	}
	return counts, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// redisCLI runs redis-cli inside the Redis container, authenticated from the uploaded
// password file (REDISCLI_AUTH, set by the shell inside the container: never in argv).
type redisCLI struct{ container string }

func (r redisCLI) run(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	script := `REDISCLI_AUTH="$(cat ` + redisPasswordFile + `)" exec redis-cli --no-auth-warning "$@"`
	full := append([]string{"exec", "-i", r.container, "sh", "-c", script, "redis-cli"}, args...)
	out, err := dockerOut(ctx, stdin, full...)
	if err != nil {
		return "", fmt.Errorf("redis-cli %s: %w", args[0], err)
	}
	if strings.HasPrefix(out, "ERR") || strings.HasPrefix(out, "NOAUTH") || strings.HasPrefix(out, "WRONGPASS") {
		return "", fmt.Errorf("redis-cli %s: %s", args[0], out)
	}
	return out, nil
}

// jsonCLI runs one command with redis-cli --json (Redis 7) and decodes the reply.
func (r redisCLI) jsonCLI(ctx context.Context, out any, args ...string) error {
	s, err := r.run(ctx, nil, append([]string{"--json"}, args...)...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("redis-cli --json %s: %w (%.200s)", args[0], err, s)
	}
	return nil
}

func (r redisCLI) dumpStreams(ctx context.Context) ([]Stream, error) {
	var keys []string
	for cursor := "0"; ; {
		var reply []json.RawMessage
		if err := r.jsonCLI(ctx, &reply, "SCAN", cursor, "TYPE", "stream", "COUNT", "1000"); err != nil {
			return nil, err
		}
		if len(reply) != 2 {
			return nil, fmt.Errorf("SCAN: unexpected reply")
		}
		var batch []string
		if err := json.Unmarshal(reply[0], &cursor); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(reply[1], &batch); err != nil {
			return nil, err
		}
		keys = append(keys, batch...)
		if cursor == "0" {
			break
		}
	}
	sort.Strings(keys)
	var out []Stream
	for _, k := range keys {
		s := Stream{Key: k}
		var raw [][]json.RawMessage // [[id, [f, v, ...]], ...]
		if err := r.jsonCLI(ctx, &raw, "XRANGE", k, "-", "+"); err != nil {
			return nil, err
		}
		for _, e := range raw {
			var en Entry
			if len(e) != 2 || json.Unmarshal(e[0], &en.ID) != nil || json.Unmarshal(e[1], &en.Fields) != nil {
				return nil, fmt.Errorf("XRANGE %s: unexpected entry", k)
			}
			s.Entries = append(s.Entries, en)
		}
		// redis-cli --json speaks RESP3: XINFO replies are maps.
		var info map[string]json.RawMessage
		if err := r.jsonCLI(ctx, &info, "XINFO", "STREAM", k); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(info["last-generated-id"], &s.LastID); err != nil {
			return nil, fmt.Errorf("XINFO STREAM %s: no last-generated-id", k)
		}
		var groups []map[string]json.RawMessage
		if err := r.jsonCLI(ctx, &groups, "XINFO", "GROUPS", k); err != nil {
			return nil, err
		}
		for _, g := range groups {
			var name string
			if err := json.Unmarshal(g["name"], &name); err != nil {
				return nil, fmt.Errorf("XINFO GROUPS %s: no name", k)
			}
			s.Groups = append(s.Groups, name)
		}
		out = append(out, s)
	}
	return out, nil
}

// restoreStream replaces the stream with the saved one: entries with their ids (XADD with
// an explicit id), the last generated id (XSETID, so that new ids follow the old ones) and
// the consumer groups, read from the start.
func (r redisCLI) restoreStream(ctx context.Context, s Stream) error {
	var b strings.Builder
	b.WriteString(respCommand("DEL", s.Key))
	for _, e := range s.Entries {
		b.WriteString(respCommand(append([]string{"XADD", s.Key, e.ID}, e.Fields...)...))
	}
	if len(s.Entries) == 0 {
		// An empty stream (its groups only): create it with a placeholder, then empty it.
		b.WriteString(respCommand("XADD", s.Key, "0-1", "dsenv", "placeholder"))
		b.WriteString(respCommand("XDEL", s.Key, "0-1"))
	}
	if s.LastID != "" {
		b.WriteString(respCommand("XSETID", s.Key, s.LastID))
	}
	for _, g := range s.Groups {
		b.WriteString(respCommand("XGROUP", "CREATE", s.Key, g, "0"))
	}
	// --pipe sends the raw protocol and reports "errors: N, replies: M".
	out, err := r.run(ctx, strings.NewReader(b.String()), "--pipe")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "errors: 0,") {
		return errors.New(strings.TrimSpace(out))
	}
	return nil
}

// respCommand encodes one command in the Redis protocol (safe for any bytes in the values).
func respCommand(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// dockerOut runs the docker CLI and returns its trimmed stdout; stderr goes into the error.
func dockerOut(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// dockerToFile runs the docker CLI with stdout into a new 0600 file.
func dockerToFile(ctx context.Context, path string, args ...string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("docker %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func fileSum(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
