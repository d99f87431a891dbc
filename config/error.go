package config

import (
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
)

// Error is one problem of one configuration file (the server's patchgate.yaml
// or a repository's .patchgate.yml), located by file, line and dotted key
// ("repos[1].ticket_keys") so that the operator or the forge status can point
// at it.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	// Noun, when set, words the problem the server file's way, which its
	// README quotes: "config key KEY: MSG", or "unknown config key KEY (MSG)"
	// when Unknown. Empty (.patchgate.yml): "KEY: MSG".
	Noun string
	// Unknown marks a key the schema does not have; Msg lists the valid ones.
	Unknown bool
}

// Unwrap makes a configuration problem an EINVALID patchgate error whose
// message is the located problem, so that wherever it surfaces (a release
// blocker, the API, a status) the user reads it, not "internal error".
func (e *Error) Unwrap() error {
	return &patchgate.Error{Code: patchgate.EINVALID, Message: e.Error()}
}

// Error reads "FILE:LINE: KEY: MSG"; the file and line are left out when the
// value did not come from a file (a default or a PATCHGATE_* variable).
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	switch {
	case e.Unknown && e.Noun != "":
		b.WriteString("unknown " + e.Noun + " " + e.Key + " (" + e.Msg + ")")
	case e.Key == "":
		b.WriteString(e.Msg)
	case e.Noun != "":
		b.WriteString(e.Noun + " " + e.Key + ": " + e.Msg)
	default:
		b.WriteString(e.Key + ": " + e.Msg)
	}
	return b.String()
}

// Split returns the errors joined in err (nested joins flattened, as they
// are printed one a line), or err alone, or none for nil.
func Split(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var leaves []error
		for _, e := range j.Unwrap() {
			leaves = append(leaves, Split(e)...)
		}
		return leaves
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// syntaxError turns the YAML library's syntax error ("yaml: line 3: mapping
// values are not allowed here") into a located Error.
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, strings.TrimSpace(tail)
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "not valid YAML: " + msg}
}
