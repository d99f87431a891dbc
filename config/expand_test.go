package config_test

import (
	"reflect"
	"testing"

	"github.com/patchgate/patchgate/config"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestExpand: ${VAR} is expanded in parsed values wherever YAML puts them
// (plain, quoted, block, flow and block lists, keys), never in comments, with
// no escape and no default, as the server file's text expansion did.
func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "N": "4", "T": "true", "S": "new: secret #2", "EMPTY": "", "K": "key"})
	type doc struct {
		V     any               `yaml:"v"`
		L     []string          `yaml:"l"`
		M     map[string]string `yaml:"m"`
		Other string            `yaml:"other"`
	}
	tests := []struct {
		name      string
		yaml      string
		want      doc
		wantUnset []config.Unset
	}{
		{"plain", "v: ${A}", doc{V: "alpha"}, nil},
		{"inside text", "v: x-${A}-y", doc{V: "x-alpha-y"}, nil},
		{"a plain number is a number", "v: ${N}", doc{V: 4}, nil},
		{"a plain true is a bool", "v: ${T}", doc{V: true}, nil},
		{"a quoted number stays a string", `v: "${N}"`, doc{V: "4"}, nil},
		{"single-quoted", "v: '${A}'", doc{V: "alpha"}, nil},
		{"a value with YAML's indicators stays one string", "v: ${S}", doc{V: "new: secret #2"}, nil},
		{"flow list", "l: [${A}, ${S}]", doc{L: []string{"alpha", "new: secret #2"}}, nil},
		{"block list", "l:\n  - ${A}\n  - b\n", doc{L: []string{"alpha", "b"}}, nil},
		{"an empty variable in a list is no item", "l: [${EMPTY}]", doc{L: []string{}}, nil},
		{"an unset variable in a list is no item", "l: [${NOPE}, b]", doc{L: []string{"b"}}, []config.Unset{{Name: "NOPE", Section: "l", Line: 1}}},
		{"an empty plain value leaves the default", "v: ${EMPTY}", doc{}, nil},
		{"a comment is not expanded", "v: a   # ${NOPE}\n", doc{V: "a"}, nil},
		{"a block scalar is expanded, its # is text", "v: |\n  ${A} # not a comment\n", doc{V: "alpha # not a comment\n"}, nil},
		{"$$ is a dollar before the reference", "v: $${A}", doc{V: "$alpha"}, nil},
		{"no default syntax", "v: ${A:-x}", doc{V: "${A:-x}"}, nil},
		{"not a name", "v: ${1A}", doc{V: "${1A}"}, nil},
		{"a key", "m: {${K}: v}", doc{M: map[string]string{"key": "v"}}, nil},
		{"unset, named with its section and line", "other: x\nm:\n  a: ${NOPE}\n", doc{Other: "x", M: map[string]string{"a": ""}}, []config.Unset{{Name: "NOPE", Section: "m", Line: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := config.ParseTemplate("f.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			unset := d.Expand(env)
			var got doc
			if err := d.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if !reflect.DeepEqual(unset, tt.wantUnset) {
				t.Errorf("got unset %+v, want %+v", unset, tt.wantUnset)
			}
		})
	}
}

func TestUnsetError(t *testing.T) {
	tests := []struct {
		name  string
		unset []config.Unset
		want  string
	}{
		{"none", nil, ""},
		{"one", []config.Unset{{Name: "GITHUB_TOKEN", Section: "github", Line: 3}},
			"environment variable GITHUB_TOKEN (in github) is not set: export it, or remove it from the configuration"},
		{"sorted, each once", []config.Unset{{Name: "B", Section: "x"}, {Name: "A", Section: "y"}, {Name: "B", Section: "x", Line: 9}},
			"environment variable A (in y), B (in x) is not set: export it, or remove it from the configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := config.UnsetError(tt.unset)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
