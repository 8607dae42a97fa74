// Package retry runs an operation within a fixed budget of attempts, used for the startup
// connections to PostgreSQL and Redis.
package retry

import (
	"context"
	"log/slog"
	"time"
)

// Budget is Attempts tries, Interval apart, each bounded by AttemptTimeout (default 3s).
// The worst case is Attempts*AttemptTimeout + (Attempts-1)*Interval.
type Budget struct {
	Attempts       int
	Interval       time.Duration
	AttemptTimeout time.Duration
}

// Do runs op until it succeeds or the budget is spent, logging each failure with target; it
// returns the last error.
func (b Budget) Do(ctx context.Context, log *slog.Logger, target string, op func(context.Context) error) error {
	attempts := max(b.Attempts, 1)
	timeout := b.AttemptTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	var err error
	for i := 1; i <= attempts; i++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err = op(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("connect attempt failed", "target", target, "attempt", i, "attempts", attempts, "error", err.Error())
		if i < attempts {
			t := time.NewTimer(b.Interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	return err
}
