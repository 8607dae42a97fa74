package backup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRespCommandIsBinarySafe(t *testing.T) {
	got := respCommand("XADD", "s", "1-0", "message", "a b\r\n\"c\"")
	want := "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n1-0\r\n$7\r\nmessage\r\n$8\r\na b\r\n\"c\"\r\n"
	if got != want {
		t.Errorf("respCommand = %q, want %q", got, want)
	}
}

func TestReadManifestChecksTheFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(DatabaseFile, "dump")
	write(StreamsFile, "{}\n")
	_, dbSum, _ := fileSum(filepath.Join(dir, DatabaseFile))
	_, rSum, _ := fileSum(filepath.Join(dir, StreamsFile))
	m := Manifest{Format: 1, Postgres: PGPart{File: DatabaseFile, SHA256: dbSum}, Redis: RedisPart{File: StreamsFile, SHA256: rSum}}
	b, _ := json.Marshal(m)
	write(ManifestFile, string(b))
	if _, err := ReadManifest(dir); err != nil {
		t.Fatalf("a whole backup: %v", err)
	}
	write(StreamsFile, "{}\n{}\n")
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "the backup is damaged") {
		t.Errorf("a changed streams file: err = %v, want damaged", err)
	}
	m.Redis.File = "../elsewhere"
	b, _ = json.Marshal(m)
	write(ManifestFile, string(b))
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "bad file name") {
		t.Errorf("a file outside the backup: err = %v, want bad file name", err)
	}
}
