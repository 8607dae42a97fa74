package testdocker

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder captures Fatalf instead of ending the test.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingImageFailsAndSaysMakeSetup(t *testing.T) {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		RequireImage(r, "dsenv/no-such-image:never")
	}()
	<-done
	assert.Contains(t, r.fatal, "docker image dsenv/no-such-image:never is not available")
	assert.Contains(t, r.fatal, "run `make setup` first")
}
