package api

import (
	"sync"
	"time"
)

// breaker sends writes straight to the dead-letter queue for a while after a PostgreSQL write
// failed, so clients are not held for the write timeout during an outage. After openFor one
// write probes PostgreSQL; its success (or a dead-letter replay) closes the breaker.
type breaker struct {
	mu        sync.Mutex
	openFor   time.Duration
	openUntil time.Time
	probing   bool
	now       func() time.Time
}

func newBreaker(openFor time.Duration, now func() time.Time) *breaker {
	if now == nil {
		now = time.Now
	}
	return &breaker{openFor: openFor, now: now}
}

// allow reports whether a write should try PostgreSQL.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true
	}
	if b.probing || b.now().Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// Success closes the breaker.
func (b *breaker) Success() {
	b.mu.Lock()
	b.openUntil, b.probing = time.Time{}, false
	b.mu.Unlock()
}

// failure opens it for openFor.
func (b *breaker) failure() {
	b.mu.Lock()
	b.openUntil, b.probing = b.now().Add(b.openFor), false
	b.mu.Unlock()
}
