package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Document is one parsed configuration file whose nodes keep their lines, and
// the located problems found while reading it: the one YAML reader of both the
// server file and .patchgate.yml.
type Document struct {
	File string
	// Root is the top-level node; nil for an empty file.
	Root *yaml.Node
	// Noun words the problems the server file's way ("config key"); see Error.
	Noun string
	// Max bounds how many problems are kept: enough to fix a file in one go,
	// not a wall of text for a file that is not configuration.
	Max  int
	errs []error
}

// Parse reads data as YAML. A syntax error is an *Error with its line.
func Parse(file string, data []byte) (*Document, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(file, err)
	}
	d := &Document{File: file, Max: 10}
	if len(doc.Content) > 0 {
		d.Root = doc.Content[0]
	}
	return d, nil
}

// Decode decodes the whole document into v, leaving v as it is for an empty
// file.
func (d *Document) Decode(v any) error {
	if d.Root == nil {
		return nil
	}
	return d.Root.Decode(v)
}

// Add records a problem of the value n at key.
func (d *Document) Add(n *yaml.Node, key, format string, args ...any) {
	d.add(&Error{File: d.File, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...), Noun: d.Noun})
}

func (d *Document) add(e *Error) {
	if d.Max == 0 || len(d.errs) < d.Max {
		d.errs = append(d.errs, e)
	}
}

// Err joins the problems found so far (each an *Error), or is nil.
func (d *Document) Err() error { return errors.Join(d.errs...) }

// Failed reports whether a problem was found.
func (d *Document) Failed() bool { return len(d.errs) > 0 }

// Mapping reports whether n is a mapping, and records the problem if not.
func (d *Document) Mapping(n *yaml.Node, key string) bool {
	if n.Kind != yaml.MappingNode {
		where := key
		if where == "" {
			where = "top level"
		}
		d.Add(n, key, "want a mapping at %s", where)
		return false
	}
	return true
}

// Fields assigns the value nodes of the mapping n's known keys and records
// every unknown key and every key given twice.
func (d *Document) Fields(n *yaml.Node, prefix string, known map[string]*(*yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		dst, ok := known[k.Value]
		if !ok {
			d.unknownKey(k, prefix, slices.Sorted(maps.Keys(known)))
			continue
		}
		if *dst != nil {
			d.Add(k, Join(prefix, k.Value), "given twice")
			continue
		}
		*dst = v
	}
}

// unknownKey records the key k, not one of valid under prefix, with the valid
// keys: a typo is found by reading the list.
func (d *Document) unknownKey(k *yaml.Node, prefix string, valid []string) {
	key := Join(prefix, k.Value)
	if d.Noun == "" {
		d.Add(k, key, "unknown key (want one of %s)", strings.Join(valid, ", "))
		return
	}
	where := "under " + prefix
	if prefix == "" {
		where = "at the top level"
	}
	d.add(&Error{File: d.File, Line: k.Line, Key: key, Noun: d.Noun, Unknown: true,
		Msg: "valid keys " + where + ": " + strings.Join(valid, ", ")})
}

// Join appends key to the dotted prefix.
func Join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// String reads a scalar as a string.
func (d *Document) String(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.Add(n, key, "want a string")
		return ""
	}
	return n.Value
}

// RequiredString reads the non-empty string n of parent, which must be given.
func (d *Document) RequiredString(parent, n *yaml.Node, key string) string {
	if n == nil {
		d.Add(parent, key, "required")
		return ""
	}
	v := d.String(n, key)
	if strings.TrimSpace(v) == "" {
		d.Add(n, key, "must not be empty")
	}
	return v
}

// Bool reads true or false into dst, which keeps its value on a problem.
func (d *Document) Bool(n *yaml.Node, key string, dst *bool) {
	if err := n.Decode(dst); err != nil {
		d.Add(n, key, "want true or false")
	}
}

// Int reads a whole number from min to max; out of range, it records msg and
// returns the number read (0 when it was not one) and false.
func (d *Document) Int(n *yaml.Node, key string, min, max int64, format string, args ...any) (int64, bool) {
	var v int64
	if err := n.Decode(&v); err != nil || v < min || v > max {
		d.Add(n, key, format, args...)
		return v, false
	}
	return v, true
}

// Float reads a number in (min, max]; out of range, it records msg.
func (d *Document) Float(n *yaml.Node, key string, min, max float64, format string, args ...any) float64 {
	var v float64
	if err := n.Decode(&v); err != nil || v <= min || v > max {
		d.Add(n, key, format, args...)
	}
	return v
}

// Duration reads a positive duration of at most max ("90s", "10m").
func (d *Document) Duration(n *yaml.Node, key string, max time.Duration) time.Duration {
	v, err := time.ParseDuration(d.String(n, key))
	if err != nil || v <= 0 || v > max {
		d.Add(n, key, "want a duration like 90s or 10m, at most %s", max)
		return 0
	}
	return v
}

// Size reads a size like 512m or 2g (ParseSize) from min to max bytes.
func (d *Document) Size(n *yaml.Node, key string, min, max int64) int64 {
	b, err := ParseSize(d.String(n, key))
	if err != nil || b < min || b > max {
		d.Add(n, key, "want a size from %s to %s, like 512m or 2g", FormatSize(min), FormatSize(max))
		return 0
	}
	return b
}

// List reads a list of strings.
func (d *Document) List(n *yaml.Node, key string) []string {
	if n.Kind != yaml.SequenceNode {
		d.Add(n, key, "want a list of strings")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			d.Add(item, key, "want a list of strings")
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// StringMap reads a mapping of scalars whose keys valid accepts (an
// environment: NAME: value); a bad key is recorded with invalid as its message.
func (d *Document) StringMap(n *yaml.Node, key string, valid func(string) bool, invalid string) map[string]string {
	if n == nil || !d.Mapping(n, key) {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !valid(k.Value) {
			d.Add(k, key+"."+k.Value, "%s", invalid)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			d.Add(v, key+"."+k.Value, "want a string, number or boolean")
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}
