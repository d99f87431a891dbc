package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Kind is how a key's value is written in a PATCHGATE_* variable.
type Kind int

// The kinds of keys.
const (
	// KindString is taken as it is.
	KindString Kind = iota
	// KindBool is true for 1 or true (any case), false otherwise.
	KindBool
	// KindInt is a whole number.
	KindInt
	// KindFloat is a number, like 1.5.
	KindFloat
	// KindDuration is a duration like 30s, 10m or 2h.
	KindDuration
	// KindSize is a size like 512m or 4g, kept as written for the check.
	KindSize
	// KindList is comma-separated; blanks around items are dropped.
	KindList
	// KindJSON is a JSON document, for lists of mappings and mappings of lists.
	KindJSON
)

// String names the kind as the README does.
func (k Kind) String() string {
	return [...]string{"string", "true or false", "whole number", "number", "duration", "size", "comma-separated list", "JSON"}[k]
}

// Key is one key of the server file: where it is, how it is written, what it
// defaults to and means. Its PATCHGATE_* variable is derived from Path.
type Key struct {
	// Path is the dotted key, like runners.max_memory.
	Path string
	Kind Kind
	// Default is the value without configuration, as written in the file ("" for none).
	Default string
	// Range is what Validate accepts, in words ("0 to 16"); "" for anything.
	Range string
	// Want is what a KindJSON variable holds, for its error ("a JSON list of repositories").
	Want string
	// Doc says what the key is for, in one sentence.
	Doc string
}

// EnvPrefix starts the name of every configuration variable.
const EnvPrefix = "PATCHGATE_"

// Env is the key's variable: PATCHGATE_ and the path upper-cased with _ for
// each dot (runners.max_memory → PATCHGATE_RUNNERS_MAX_MEMORY).
func (k Key) Env() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(k.Path, ".", "_"))
}

// ApplyEnv sets, in the struct dst points to, every key of keys whose
// variable env has, found by its path through the yaml tags. A value that is
// not of its kind is an error naming the variable.
func ApplyEnv(dst any, keys []Key, env func(string) (string, bool)) error {
	root := reflect.ValueOf(dst).Elem()
	for _, k := range keys {
		v, ok := env(k.Env())
		if !ok {
			continue
		}
		f, err := field(root, k.Path)
		if err != nil {
			return err
		}
		if err := setEnv(f, k, v); err != nil {
			return err
		}
	}
	return nil
}

// setEnv sets f to the variable's value v of key k.
func setEnv(f reflect.Value, k Key, v string) error {
	switch k.Kind {
	case KindString, KindSize:
		f.SetString(v)
	case KindBool:
		f.SetBool(v == "1" || strings.EqualFold(v, "true"))
	case KindInt:
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("%s: want a number, got %q", k.Env(), v)
		}
		f.SetInt(n)
	case KindFloat:
		var n float64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("%s: want a number, got %q", k.Env(), v)
		}
		f.SetFloat(n)
	case KindDuration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: want a duration such as 30s, 10m or 2h, got %q", k.Env(), v)
		}
		f.SetInt(int64(d))
	case KindList:
		f.Set(reflect.ValueOf(SplitList(v)))
	case KindJSON:
		// The variable replaces the file's value, it does not merge into it.
		f.SetZero()
		if err := json.Unmarshal([]byte(v), f.Addr().Interface()); err != nil {
			return fmt.Errorf("%s: want %s: %w", k.Env(), k.Want, err)
		}
	}
	return nil
}

// field finds the field at the dotted path in the struct v by its yaml tags.
func field(v reflect.Value, path string) (reflect.Value, error) {
	for name := range strings.SplitSeq(path, ".") {
		if v.Kind() != reflect.Struct {
			return v, fmt.Errorf("config key %s: %s is not a mapping", path, name)
		}
		next, ok := reflect.Value{}, false
		for i := range v.NumField() {
			if n, exported := yamlName(v.Type().Field(i)); exported && n == name {
				next, ok = v.Field(i), true
				break
			}
		}
		if !ok {
			return v, fmt.Errorf("config key %s: no key %s", path, name)
		}
		v = next
	}
	return v, nil
}

// Leaves lists the dotted paths of t's keys that hold a value rather than
// more keys (a struct's fields are followed; lists and maps are leaves): the
// keys a key table must describe.
func Leaves(t reflect.Type) []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, ok := yamlName(f)
			if !ok {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, Join(prefix, name))
				continue
			}
			out = append(out, Join(prefix, name))
		}
	}
	walk(t, "")
	return out
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
