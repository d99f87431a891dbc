package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// peekScan is what Peek reads from a payload: a few string fields of the
// top-level object and of objects directly inside it. It is the only JSON
// decoding on the request path, so it is one pass over the body that checks
// the whole document is valid JSON (exactly what json.Valid accepts) and keeps
// only the wanted strings. json.Unmarshal into a struct did the same work in
// two passes (a validity scan, then a decoding that also walks every skipped
// value) and was half the CPU time of webhook intake. The result is that of
// json.Unmarshal into the equivalent struct, field names matched the same way
// (exactly, else case-insensitively; the last duplicate wins; null leaves a
// field alone), and FuzzPeekScan holds the two together.
type peekField struct {
	name string
	dst  *string
	// sub, when set, makes this an object field whose own string fields are wanted.
	sub []peekField
}

// errPeekType says a wanted field holds a value of the wrong JSON type.
var errPeekType = errors.New("a field has the wrong type")

// peekDecode fills fields from body, or returns why body is not valid JSON or
// does not fit them.
func peekDecode(body []byte, fields []peekField) error {
	s := peekScanner{b: body}
	s.space()
	var err error
	switch {
	case s.i < len(s.b) && s.b[s.i] == '{':
		err = s.object(fields, 1)
	case s.i < len(s.b) && s.b[s.i] == 'n':
		err = s.value(1) // null: nothing to fill
	default:
		if err = s.value(1); err == nil {
			err = errPeekType // a scalar or array where the object was expected
			if s.space(); s.i != len(s.b) {
				err = s.syntax("after top-level value")
			}
			return err
		}
	}
	if err != nil {
		return err
	}
	if s.space(); s.i != len(s.b) {
		return s.syntax("after top-level value")
	}
	return nil
}

// maxPeekDepth is encoding/json's nesting limit.
const maxPeekDepth = 10000

type peekScanner struct {
	b []byte
	i int
}

func (s *peekScanner) syntax(where string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %q %s at offset %d", s.b[s.i], where, s.i)
}

func (s *peekScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans an object at s.i ('{'), filling the wanted fields.
func (s *peekScanner) object(fields []peekField, depth int) error {
	if depth > maxPeekDepth {
		return errors.New("exceeded max depth")
	}
	s.i++ // '{'
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	var typeErr error
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.syntax("looking for beginning of object key string")
		}
		key, err := s.str(true)
		if err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.syntax("after object key")
		}
		s.i++
		s.space()
		f := match(fields, key)
		switch {
		case f == nil:
			err = s.value(depth + 1)
		case f.sub != nil && s.i < len(s.b) && s.b[s.i] == '{':
			err = s.object(f.sub, depth+1)
		case f.sub == nil && s.i < len(s.b) && s.b[s.i] == '"':
			var v []byte
			if v, err = s.str(true); err == nil {
				*f.dst = string(v)
			}
		default:
			start := s.i
			if err = s.value(depth + 1); err == nil && !bytes.Equal(s.b[start:s.i], []byte("null")) {
				typeErr = errPeekType // json.Unmarshal goes on, then reports it
			}
		}
		if err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.syntax("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			return typeErr
		default:
			return s.syntax("after object key:value pair")
		}
	}
}

// match returns the field key names as json.Unmarshal would pick it: an
// exact match, else the first case-insensitive one.
func match(fields []peekField, key []byte) *peekField {
	for i := range fields {
		if string(key) == fields[i].name {
			return &fields[i]
		}
	}
	for i := range fields {
		if bytes.EqualFold(key, []byte(fields[i].name)) {
			return &fields[i]
		}
	}
	return nil
}

// value skips any value at s.i.
func (s *peekScanner) value(depth int) error {
	if s.i >= len(s.b) {
		return s.syntax("")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(nil, depth)
	case c == '[':
		if depth > maxPeekDepth {
			return errors.New("exceeded max depth")
		}
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.space()
			if s.i >= len(s.b) {
				return s.syntax("")
			}
			switch s.b[s.i] {
			case ',':
				s.i++
				s.space()
			case ']':
				s.i++
				return nil
			default:
				return s.syntax("after array element")
			}
		}
	case c == '"':
		_, err := s.str(false)
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.syntax("looking for beginning of value")
}

func (s *peekScanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		for j := 0; j < len(lit) && s.i < len(s.b) && s.b[s.i] == lit[j]; j++ {
			s.i++
		}
		return s.syntax("in literal " + lit)
	}
	s.i += len(lit)
	return nil
}

func (s *peekScanner) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case digits() == 0:
		return s.syntax("in numeric literal")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.syntax("after decimal point in numeric literal")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.syntax("in exponent of numeric literal")
		}
	}
	return nil
}

// str scans a string at s.i ('"') and returns its value: the raw bytes when
// it has no escapes and is valid UTF-8 (the common case) or decode is false
// (a skipped value), else decoded by encoding/json (which replaces invalid
// UTF-8).
func (s *peekScanner) str(decode bool) ([]byte, error) {
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		// Most of a payload is plain string bytes: skip them in a tight loop.
		for s.i < len(s.b) && s.b[s.i] >= 0x20 && s.b[s.i] != '"' && s.b[s.i] != '\\' {
			s.i++
		}
		if s.i >= len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw := s.b[start+1 : s.i-1]
			if !decode || !escaped && utf8.Valid(raw) {
				return raw, nil
			}
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return nil, err
			}
			return []byte(v), nil
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return nil, s.syntax("")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if s.i >= len(s.b) || !isHexDigit(s.b[s.i]) {
						return nil, s.syntax("in \\u hexadecimal character escape")
					}
					s.i++
				}
			default:
				return nil, s.syntax("in string escape code")
			}
		case c < 0x20:
			return nil, s.syntax("in string literal")
		default:
			s.i++
		}
	}
	return nil, s.syntax("")
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
