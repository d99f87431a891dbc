package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Check walks the document against the Go type t it decodes into, by
// reflection on the yaml tags, so that a key added to the type is known here
// without another list to keep. It records every unknown key (with the valid
// ones at its place) and every value of the wrong kind, and returns the line
// of every key it saw, so that later findings can point into the file.
func (d *Document) Check(t reflect.Type) map[string]int {
	lines := map[string]int{}
	if d.Root != nil {
		d.check(d.Root, t, "", lines)
	}
	return lines
}

var durationType = reflect.TypeFor[time.Duration]()

// check walks n as a value of type t at key.
func (d *Document) check(n *yaml.Node, t reflect.Type, key string, lines map[string]int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // key: with no value leaves the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		d.leaf(n, t, key)
	case t.Kind() == reflect.Struct:
		if !d.want(n, yaml.MappingNode, key, "a mapping of keys") {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, value := n.Content[i], n.Content[i+1]
			if name.Value == "<<" && name.Tag == "!!merge" {
				// A YAML merge (<<: *defaults) brings keys of this same mapping.
				if value.Kind == yaml.SequenceNode {
					for _, m := range value.Content {
						d.check(m, t, key, lines)
					}
				} else {
					d.check(value, t, key, lines)
				}
				continue
			}
			f, ok := fields[name.Value]
			if !ok {
				d.unknownKey(name, key, slices.Sorted(maps.Keys(fields)))
				continue
			}
			sub := Join(key, name.Value)
			lines[sub] = name.Line
			d.check(value, f, sub, lines)
		}
	case t.Kind() == reflect.Slice:
		if !d.want(n, yaml.SequenceNode, key, "a list, like [a, b]") {
			return
		}
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", key, i)
			lines[sub] = item.Line
			d.check(item, t.Elem(), sub, lines)
		}
	case t.Kind() == reflect.Map:
		if !d.want(n, yaml.MappingNode, key, "a mapping of keys") {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			name, value := n.Content[i], n.Content[i+1]
			sub := Join(key, name.Value)
			lines[sub] = name.Line
			d.check(value, t.Elem(), sub, lines)
		}
	default:
		d.leaf(n, t, key)
	}
}

// want reports whether n is of kind, and records the problem if not.
func (d *Document) want(n *yaml.Node, kind yaml.Kind, key, what string) bool {
	if n.Kind == kind {
		return true
	}
	if key == "" {
		key = "(top level)"
	}
	d.Add(n, key, "want %s, got %s", what, describeNode(n))
	return false
}

// leaf decodes a scalar on its own, so that a wrong value is reported at its
// key and line in words rather than as the YAML library's type error.
func (d *Document) leaf(n *yaml.Node, t reflect.Type, key string) {
	if n.Kind != yaml.ScalarNode {
		d.Add(n, key, "want %s, got %s", describeType(t), describeNode(n))
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		d.Add(n, key, "want %s, got %q", describeType(t), n.Value)
	}
}

// yamlFields maps a struct's YAML key names to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, ok := yamlName(f); ok {
			out[name] = f.Type
		}
	}
	return out
}

// yamlName is the key of a struct field in YAML, as the YAML library reads it.
func yamlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, true
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
