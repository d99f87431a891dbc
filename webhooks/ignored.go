package webhooks

import (
	"errors"
	"fmt"
)

// IgnoredError says a delivery is authentic and readable but not something
// patchgate acts on; the server answers 202 "ignored" and logs it at debug.
//
// It is deliberately not a *patchgate.Error: an unsupported event is not a
// failure, and forges disable hooks that keep failing.
type IgnoredError struct {
	// Reason says why, in words fit for the delivery log: `event "star" is not used`.
	Reason string
}

// Error implements the error interface.
func (e *IgnoredError) Error() string { return "ignored: " + e.Reason }

// IsIgnored reports whether err (or anything it wraps) is an *IgnoredError.
func IsIgnored(err error) bool {
	var ig *IgnoredError
	return errors.As(err, &ig)
}

func ignoredf(format string, args ...any) *IgnoredError {
	return &IgnoredError{Reason: fmt.Sprintf(format, args...)}
}
