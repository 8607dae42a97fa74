package audit

import (
	"strings"
	"testing"
)

// BenchmarkDecodeBatch measures decoding and validating a 100-event gateway batch (no I/O).
func BenchmarkDecodeBatch(b *testing.B) {
	one := string(mustJSON(b, validEvent()))
	body := []byte("[" + strings.TrimSuffix(strings.Repeat(one+",", 100), ",") + "]")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(body, testNow, 500); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
