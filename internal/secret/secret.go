// Package secret generates an environment's credentials.
package secret

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// Vars are the root modules' secret variables, generated per environment unless given.
var Vars = []string{"postgres_password", "redis_password", "api_token"}

// New returns 32 random hex characters (128 bits).
func New() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Generate returns a fresh value for each of Vars.
func Generate() (map[string]string, error) {
	m := make(map[string]string, len(Vars))
	for _, k := range Vars {
		v, err := New()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}
