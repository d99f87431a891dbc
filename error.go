package patchgate

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in the server's table.
const (
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	// EUNPROCESSABLE: the request is well-formed but names something the
	// domain cannot take (a candidate commit that is not on its release branch).
	EUNPROCESSABLE = "unprocessable"
	ETOOLARGE      = "too_large"
	// EUNAVAILABLE: busy now, try again later (the answer says when).
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal"
)

// Error is an error a user can act on: a code from the list above and a message
// safe to show. Anything that is not an *Error is internal.
type Error struct {
	Code    string
	Message string
	// Blockers, when set, are the refusal's reasons with their codes and
	// next actions (Unreleasable); the API returns them beside the message.
	Blockers []Blocker
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the *Error's message, or
// "internal error" so that internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
