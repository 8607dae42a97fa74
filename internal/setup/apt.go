package setup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// aptSource is one Debian archive that the machine's apt is configured to use.
type aptSource struct {
	URI     string
	Keyring string // Signed-By / signed-by file, if any
}

// debianMirror finds the archive debootstrap should fetch suite from: $DSENV_DEBIAN_MIRROR,
// else the first source for that suite in /etc/apt/sources.list.d/*.sources (deb822) or
// *.list, or /etc/apt/sources.list. A corporate mirror is honoured this way, and no
// mirror's name is ever written into the repository.
func debianMirror(suite string) (aptSource, error) {
	if m := os.Getenv("DSENV_DEBIAN_MIRROR"); m != "" {
		return aptSource{URI: m}, nil
	}
	var files []string
	for _, pat := range []string{"/etc/apt/sources.list.d/*.sources", "/etc/apt/sources.list.d/*.list"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	sort.Strings(files)
	files = append(files, "/etc/apt/sources.list")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var srcs []aptSource
		if strings.HasSuffix(f, ".sources") {
			srcs = parseDeb822Sources(string(b), suite)
		} else {
			srcs = parseSourcesList(string(b), suite)
		}
		if len(srcs) > 0 {
			return srcs[0], nil
		}
	}
	return aptSource{}, fmt.Errorf("no apt source for Debian %s in /etc/apt/sources.list or /etc/apt/sources.list.d: set DSENV_DEBIAN_MIRROR to a Debian archive URL", suite)
}

// usableURI reports whether debootstrap can fetch from uri.
func usableURI(uri string) bool {
	for _, p := range []string{"http://", "https://", "file:/"} {
		if strings.HasPrefix(uri, p) {
			return true
		}
	}
	return false
}

// parseDeb822Sources returns the binary ("deb") sources for suite in a deb822 .sources file.
func parseDeb822Sources(text, suite string) []aptSource {
	var out []aptSource
	for _, para := range deb822Paragraphs(text) {
		if strings.EqualFold(para["enabled"], "no") ||
			!hasWord(para["types"], "deb") || !hasWord(para["suites"], suite) {
			continue
		}
		for _, uri := range strings.Fields(para["uris"]) {
			if usableURI(uri) {
				// Signed-By may also hold an inline key block; only a file name is usable.
				kr := para["signed-by"]
				if strings.ContainsAny(kr, "\n ") || !strings.HasPrefix(kr, "/") {
					kr = ""
				}
				out = append(out, aptSource{URI: uri, Keyring: kr})
			}
		}
	}
	return out
}

// deb822Paragraphs splits text into paragraphs of lower-cased field name to value;
// continuation lines are joined with newlines, comments dropped.
func deb822Paragraphs(text string) []map[string]string {
	var paras []map[string]string
	cur := map[string]string{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, cur)
		}
		cur, last = map[string]string{}, ""
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return paras
}

// parseSourcesList returns the "deb" sources for suite in one-line-style sources.list text:
// deb [opt=val ...] uri suite component...
func parseSourcesList(text, suite string) []aptSource {
	var out []aptSource
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		var src aptSource
		if strings.HasPrefix(f[0], "[") {
			opts := []string{}
			for len(f) > 0 {
				w := f[0]
				f = f[1:]
				opts = append(opts, strings.Trim(w, "[]"))
				if strings.HasSuffix(w, "]") {
					break
				}
			}
			for _, o := range opts {
				if k, v, ok := strings.Cut(o, "="); ok && k == "signed-by" && strings.HasPrefix(v, "/") {
					src.Keyring = v
				}
			}
		}
		if len(f) < 2 || f[1] != suite || !usableURI(f[0]) {
			continue
		}
		src.URI = f[0]
		out = append(out, src)
	}
	return out
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

var errNoDebootstrap = errors.New("debootstrap not found on PATH: it builds the base image from Debian packages; install it (apt-get install -y debootstrap)")
