package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// varPattern is a ${VAR} reference. There is no escape ($$ is a $ before the
// reference) and no default (${VAR:-x} is text): the forms the server file
// has always had.
var varPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Marks stand for "${" and "}" of a reference while the file is parsed:
// "[${SECRET}]" is not YAML (a { in a list opens a mapping), but the same
// list with the reference marked by characters of Unicode's private use area
// is, in every context, and keeps its lines and its comments.
const (
	markOpen  = "\uE000"
	markClose = "\uE001"
)

// markedPattern is a reference as ParseTemplate marks it.
var markedPattern = regexp.MustCompile(markOpen + `([A-Za-z_][A-Za-z0-9_]*)` + markClose)

// ParseTemplate is Parse for a file with ${VAR} references, which Expand
// then replaces in the parsed values. Only the references are marked before
// parsing; nothing else of the text is read or changed. (A file that itself
// holds U+E000 NAME U+E001 would see it expanded too; configuration has no
// reason to.)
func ParseTemplate(file string, data []byte) (*Document, error) {
	return Parse(file, varPattern.ReplaceAll(data, []byte(markOpen+"$1"+markClose)))
}

// Unset is a ${VAR} whose variable is not set.
type Unset struct {
	Name string
	// Section is the top-level key the value is under ("github").
	Section string
	Line    int
}

// Expand replaces the ${VAR}s ParseTemplate marked in every scalar (values
// and keys) with the variable's value, taken as it is (a secret with ": " or
// "#" stays one string). Comments are not values and are left alone. A plain value
// is typed again after expansion (workers: ${N} is a number); a quoted one
// stays a string. An unset variable expands to nothing, and a list item that
// becomes nothing is dropped ([${NEXT_SECRET}] is an empty list); each unset
// use is returned, for the caller to decide which ones matter.
func (d *Document) Expand(env func(string) (string, bool)) []Unset {
	if d.Root == nil {
		return nil
	}
	var unset []Unset
	var walk func(n *yaml.Node, section string)
	walk = func(n *yaml.Node, section string) {
		switch n.Kind {
		case yaml.ScalarNode:
			expandScalar(n, env, func(name string) { unset = append(unset, Unset{name, section, n.Line}) })
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i], section)
				s := section
				if n == d.Root {
					s = n.Content[i].Value
				}
				walk(n.Content[i+1], s)
			}
		case yaml.SequenceNode:
			kept := n.Content[:0]
			for _, item := range n.Content {
				had := item.Kind == yaml.ScalarNode && markedPattern.MatchString(item.Value)
				walk(item, section)
				if had && item.Value == "" {
					continue
				}
				kept = append(kept, item)
			}
			n.Content = kept
		}
		// Aliases point at nodes expanded where they are defined.
	}
	walk(d.Root, "")
	return unset
}

// expandScalar expands the ${VAR}s of one scalar, telling unset ones to
// missing (they become "").
func expandScalar(n *yaml.Node, env func(string) (string, bool), missing func(name string)) {
	if !strings.Contains(n.Value, markOpen) {
		return
	}
	expanded := markedPattern.ReplaceAllStringFunc(n.Value, func(m string) string {
		name := m[len(markOpen) : len(m)-len(markClose)]
		v, ok := env(name)
		if !ok {
			missing(name)
		}
		return v
	})
	n.Value = expanded
	if n.Style&(yaml.TaggedStyle|yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		n.Tag = "" // resolved again from the value: a number, true, or empty
	}
}

// UnsetError is the problem of the variables of unset that are not set, each
// with its section: a missing secret stops start-up instead of becoming "".
func UnsetError(unset []Unset) error {
	if len(unset) == 0 {
		return nil
	}
	names := make([]string, len(unset))
	for i, u := range unset {
		names[i] = u.Name + " (in " + u.Section + ")"
	}
	slices.Sort(names)
	return fmt.Errorf("environment variable %s is not set: export it, or remove it from the configuration", strings.Join(slices.Compact(names), ", "))
}
