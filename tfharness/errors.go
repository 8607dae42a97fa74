package tfharness

import (
	"errors"
	"fmt"
)

// Error is what Up, New and Down fail with: which environment, which step and why.
// Steps: docker, prepare, reaper, init, copy, images, network, apply, outputs, ready, auth
// (one authenticated request through the auth stand-in), destroy.
// A container that exited during the apply is in Err with its last log lines.
type Error struct {
	Env  string // environment id
	Step string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("env %s: %s: %v", e.Env, e.Step, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// stepErr marks the step an internal error happened in; Up turns it into an *Error.
type stepErr struct {
	step string
	err  error
}

func stepError(step string, err error) error { return &stepErr{step, err} }

func (s *stepErr) Error() string { return s.step + ": " + s.err.Error() }
func (s *stepErr) Unwrap() error { return s.err }

// stepOf names the step of err ("apply" when none was marked).
func stepOf(err error) string {
	if se := (*stepErr)(nil); errors.As(err, &se) {
		return se.step
	}
	return "apply"
}

// envError is err as an *Error of environment id.
func envError(id string, err error) *Error {
	if se := (*stepErr)(nil); errors.As(err, &se) {
		return &Error{Env: id, Step: se.step, Err: se.err}
	}
	return &Error{Env: id, Step: "apply", Err: err}
}
