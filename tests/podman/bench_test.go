package podman_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/tfharness"
)

// BenchmarkUpDownBesideDocker compares Podman with Docker in one run: each round brings one
// environment up and down on each engine, in alternating order, each in a child process
// (the engine is chosen once per process, as a user's suite chooses it). It reports the
// medians per engine and the median of the per-round Podman ÷ Docker ratios:
//
//	DSENV_PODMAN_TESTS=1 go test ./tests/podman -run '^$' -bench UpDownBesideDocker -benchtime 3x
func BenchmarkUpDownBesideDocker(b *testing.B) {
	if os.Getenv(enableVar) != "1" {
		b.Skipf("needs Podman: %s=1 (.ci/run sets it)", enableVar)
	}
	if podmanErr != nil {
		b.Fatal(podmanErr)
	}
	for _, backend := range []tfharness.AuthBackend{tfharness.AuthStandIn, tfharness.AuthKube} {
		b.Run(string(backend), func(b *testing.B) {
			var up, down = map[string][]float64{}, map[string][]float64{}
			var upRatio, downRatio []float64
			for i := 0; i < b.N; i++ {
				order := []string{"podman", "docker"}
				if i%2 == 1 {
					order = []string{"docker", "podman"}
				}
				round := map[string]childTimes{}
				for _, eng := range order {
					ct, err := runUpDownChild(eng, backend)
					if err != nil {
						b.Fatalf("%s: %v", eng, err)
					}
					round[eng] = ct
					up[eng] = append(up[eng], ct.Up)
					down[eng] = append(down[eng], ct.Down)
				}
				upRatio = append(upRatio, round["podman"].Up/round["docker"].Up)
				downRatio = append(downRatio, round["podman"].Down/round["docker"].Down)
				b.Logf("round %d (%s first): podman up %.2fs down %.2fs; docker up %.2fs down %.2fs",
					i+1, order[0], round["podman"].Up, round["podman"].Down, round["docker"].Up, round["docker"].Down)
			}
			b.ReportMetric(median(up["podman"]), "podman-up-s")
			b.ReportMetric(median(up["docker"]), "docker-up-s")
			b.ReportMetric(median(down["podman"]), "podman-down-s")
			b.ReportMetric(median(down["docker"]), "docker-down-s")
			b.ReportMetric(median(upRatio), "up-podman/docker")
			b.ReportMetric(median(downRatio), "down-podman/docker")
		})
	}
}

type childTimes struct {
	Up   float64 `json:"up"`
	Down float64 `json:"down"`
}

const upDownChildVar = "DSENV_PODMAN_UPDOWN_CHILD"

// runUpDownChild runs TestUpDownChild in a child process on engine eng ("podman" or
// "docker") and returns its times.
func runUpDownChild(eng string, backend tfharness.AuthBackend) (childTimes, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestUpDownChild$", "-test.v", "-test.count=1", "-test.bench=^$")
	// The Docker child gets no DSENV_ENGINE (TestMain set it to podman here): the default engine.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return eng == "docker" && strings.HasPrefix(kv, "DSENV_ENGINE=") })
	cmd.Env = append(env, upDownChildVar+"="+eng, "DSENV_AUTH_BACKEND="+string(backend))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return childTimes{}, fmt.Errorf("child: %v\n%s", err, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if _, js, ok := strings.Cut(line, "updown-times: "); ok {
			var ct childTimes
			err := json.Unmarshal([]byte(js), &ct)
			return ct, err
		}
	}
	return childTimes{}, fmt.Errorf("child printed no times:\n%s", out.String())
}

// TestUpDownChild is BenchmarkUpDownBesideDocker's child: one Up and one Down on the engine
// it is given (the Docker child checks that it reached Docker); run directly it skips.
func TestUpDownChild(t *testing.T) {
	eng := os.Getenv(upDownChildVar)
	if eng == "" {
		t.Skip("helper: runs only as the child process of BenchmarkUpDownBesideDocker")
	}
	needPodman(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := engine.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != engine.Kind(eng) {
		t.Fatalf("the %s child reached %s", eng, v)
	}
	t0 := time.Now() // the harness reads DSENV_AUTH_BACKEND itself
	env, err := tfharness.Up(ctx, tfharness.WithLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	up := time.Since(t0)
	t0 = time.Now()
	if err := env.Down(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(childTimes{Up: up.Seconds(), Down: time.Since(t0).Seconds()})
	fmt.Printf("updown-times: %s\n", b)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
