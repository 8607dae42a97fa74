package tfharness

import (
	"crypto/rand"
	"fmt"

	"github.com/dsenv/dsenv/internal/label"
)

// newID returns prefix-xxxxxxxx with 8 random lower-case letters and digits.
func newID(prefix string) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	id := prefix + "-" + string(b)
	if !label.ValidEnvID.MatchString(id) {
		return "", fmt.Errorf("id prefix %q: the id %q must match %s", prefix, id, label.ValidEnvID)
	}
	return id, nil
}
