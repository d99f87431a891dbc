package main

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ConfigError is one problem with one key of the server configuration. Key is
// dotted, with list indexes ("repos[1].ticket_keys"), so that the operator
// finds it in the file; Line is where, when the key is in the file.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error reads "FILE:LINE: config key KEY: MSG", or "config key KEY: MSG" for
// a value that did not come from the file (a default or a PATCHGATE_*
// variable).
func (e *ConfigError) Error() string {
	msg := "config key " + e.Key + ": " + e.Msg
	if e.File == "" || e.Line == 0 {
		return msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + msg
}

// configKeyErrorf returns a *ConfigError from "KEY: message", the form every
// check of Validate writes its finding in.
func configKeyErrorf(format string, args ...any) error {
	msg := fmt.Errorf(format, args...).Error()
	key, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		return &ConfigError{Msg: msg}
	}
	return &ConfigError{Key: key, Msg: rest}
}

// unknownKeyError is a key the configuration does not have, with the keys it
// has at that place: a typo is found by reading the list.
type unknownKeyError struct {
	File  string
	Line  int
	Key   string
	Where string
	Valid []string
}

func (e *unknownKeyError) Error() string {
	return fmt.Sprintf("%s:%d: unknown config key %s (valid keys %s: %s)", e.File, e.Line, e.Key, e.Where, strings.Join(e.Valid, ", "))
}

// maxConfigErrors bounds how many problems one check reports: enough to fix a
// file in one go, not a wall of text for a file that is not configuration.
const maxConfigErrors = 20

// keyChecker walks a configuration's YAML tree against the Go type it decodes
// into, by reflection on the yaml tags, so that a key added to Config is known
// here without another list to keep. It records the line of every key it sees,
// so that Validate's findings can point into the file.
type keyChecker struct {
	file  string
	lines map[string]int
	errs  []error
}

var durationType = reflect.TypeFor[time.Duration]()

func (k *keyChecker) add(err error) {
	if len(k.errs) < maxConfigErrors {
		k.errs = append(k.errs, err)
	}
}

// check walks n as a value of type t at key.
func (k *keyChecker) check(n *yaml.Node, t reflect.Type, key string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // key: with no value leaves the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		k.leaf(n, t, key)
	case t.Kind() == reflect.Struct:
		if !k.want(n, yaml.MappingNode, key, "a mapping of keys") {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, value := n.Content[i], n.Content[i+1]
			if name.Value == "<<" && name.Tag == "!!merge" {
				// A YAML merge (<<: *defaults) brings keys of this same mapping.
				if value.Kind == yaml.SequenceNode {
					for _, m := range value.Content {
						k.check(m, t, key)
					}
				} else {
					k.check(value, t, key)
				}
				continue
			}
			sub := joinKey(key, name.Value)
			f, ok := fields[name.Value]
			if !ok {
				where := "under " + key
				if key == "" {
					where = "at the top level"
				}
				k.add(&unknownKeyError{File: k.file, Line: name.Line, Key: sub, Where: where, Valid: slices.Sorted(maps.Keys(fields))})
				continue
			}
			k.lines[sub] = name.Line
			k.check(value, f, sub)
		}
	case t.Kind() == reflect.Slice:
		if !k.want(n, yaml.SequenceNode, key, "a list, like [a, b]") {
			return
		}
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", key, i)
			k.lines[sub] = item.Line
			k.check(item, t.Elem(), sub)
		}
	case t.Kind() == reflect.Map:
		if !k.want(n, yaml.MappingNode, key, "a mapping of keys") {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, value := n.Content[i], n.Content[i+1]
			sub := joinKey(key, name.Value)
			k.lines[sub] = name.Line
			k.check(value, t.Elem(), sub)
		}
	default:
		k.leaf(n, t, key)
	}
}

// want reports whether n is of kind, and records the error if not.
func (k *keyChecker) want(n *yaml.Node, kind yaml.Kind, key, what string) bool {
	if n.Kind == kind {
		return true
	}
	k.add(&ConfigError{File: k.file, Line: n.Line, Key: keyOrTop(key), Msg: "want " + what + ", got " + describeNode(n)})
	return false
}

// leaf decodes a scalar on its own, so that a wrong value is reported at its
// key and line in words rather than as the YAML library's type error.
func (k *keyChecker) leaf(n *yaml.Node, t reflect.Type, key string) {
	if n.Kind != yaml.ScalarNode {
		k.add(&ConfigError{File: k.file, Line: n.Line, Key: key, Msg: "want " + describeType(t) + ", got " + describeNode(n)})
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		k.add(&ConfigError{File: k.file, Line: n.Line, Key: key, Msg: fmt.Sprintf("want %s, got %q", describeType(t), n.Value)})
	}
}

// yamlFields maps a struct's YAML key names to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func keyOrTop(key string) string {
	if key == "" {
		return "(top level)"
	}
	return key
}

func describeType(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 30s, 10m or 2h"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// locate gives the findings of Validate (errors of "config key KEY: …") the
// file and line of their key, where the key is in the file; a value from a
// default or a variable keeps no line.
func locate(err error, file string, lines map[string]int) error {
	errs := splitErrors(err)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		var ce *ConfigError
		if errors.As(e, &ce) && ce.File == "" {
			if line, ok := lines[ce.Key]; ok {
				located := *ce
				located.File, located.Line = file, line
				out[i] = &located
			}
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// checkConfigKeys reports every unknown key and every value of the wrong
// kind in a configuration file, each with its line, and returns the line of
// every key for Validate's findings.
func checkConfigKeys(file string, data []byte) (map[string]int, error) {
	k := &keyChecker{file: file, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// "yaml: line 3: mapping values are not allowed here" → "FILE:3: …"
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, tail, ok := strings.Cut(rest, ":"); ok {
				if _, err := strconv.Atoi(n); err == nil {
					return nil, fmt.Errorf("%s:%s: not valid YAML:%s", file, n, tail)
				}
			}
		}
		return nil, fmt.Errorf("%s: not valid YAML: %s", file, msg)
	}
	if len(doc.Content) == 0 {
		return k.lines, nil // an empty file leaves the defaults
	}
	k.check(doc.Content[0], reflect.TypeFor[Config](), "")
	return k.lines, errors.Join(k.errs...)
}

// splitErrors returns the errors joined in err, or err alone.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		// Joins nest (the key check's findings joined with an unset
		// variable's): count the leaves, as they are printed one a line.
		var leaves []error
		for _, e := range j.Unwrap() {
			leaves = append(leaves, splitErrors(e)...)
		}
		return leaves
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
