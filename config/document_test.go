package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate/config"
	"go.yaml.in/yaml/v3"
)

func TestErrorWording(t *testing.T) {
	tests := []struct {
		name string
		err  config.Error
		want string
	}{
		{"repo file", config.Error{File: ".patchgate.yml", Line: 3, Key: "suites.unit.run", Msg: "required"}, ".patchgate.yml:3: suites.unit.run: required"},
		{"repo file without a line", config.Error{File: ".patchgate.yml", Msg: "file is 1 bytes; at most 0"}, ".patchgate.yml: file is 1 bytes; at most 0"},
		{"repo file unknown key", config.Error{File: ".patchgate.yml", Line: 2, Key: "releases", Msg: "unknown key (want one of proof, quarantine, release, suites)"}, ".patchgate.yml:2: releases: unknown key (want one of proof, quarantine, release, suites)"},
		{"server file", config.Error{File: "patchgate.yaml", Line: 40, Key: "runners.workers", Msg: "40: want 0 to 16", Noun: "config key"}, "patchgate.yaml:40: config key runners.workers: 40: want 0 to 16"},
		{"server value from a variable", config.Error{Key: "runners.workers", Msg: "40: want 0 to 16", Noun: "config key"}, "config key runners.workers: 40: want 0 to 16"},
		{"server unknown key", config.Error{File: "patchgate.yaml", Line: 31, Key: "runner", Msg: "valid keys at the top level: audit, database", Noun: "config key", Unknown: true}, "patchgate.yaml:31: unknown config key runner (valid keys at the top level: audit, database)"},
		{"syntax", config.Error{File: "patchgate.yaml", Line: 1, Msg: "not valid YAML: did not find expected node content"}, "patchgate.yaml:1: not valid YAML: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// serverLike is a schema with a key of every kind Check knows.
type serverLike struct {
	Listen  string              `yaml:"listen"`
	Migrate bool                `yaml:"migrate"`
	Runners runnersLike         `yaml:"runners"`
	Repos   []repoLike          `yaml:"repos"`
	Owners  map[string][]string `yaml:"owners"`
}

type runnersLike struct {
	Workers int           `yaml:"workers"`
	CPUs    float64       `yaml:"cpus"`
	Timeout time.Duration `yaml:"timeout"`
}

type repoLike struct {
	Name string   `yaml:"name"`
	Keys []string `yaml:"keys"`
	On   *bool    `yaml:"on"`
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		want      []string
		wantLines map[string]int
	}{
		{"valid", "listen: x\nrunners:\n  workers: 2\nrepos:\n  - name: a\n    keys: [A]\n", nil,
			map[string]int{"listen": 1, "runners": 2, "runners.workers": 3, "repos": 4, "repos[0]": 5, "repos[0].name": 5, "repos[0].keys": 6, "repos[0].keys[0]": 6}},
		{"unknown top-level key", "listn: x\n", []string{"f.yaml:1: unknown config key listn (valid keys at the top level: listen, migrate, owners, repos, runners)"}, nil},
		{"unknown nested key", "runners:\n  wokers: 1\n", []string{"f.yaml:2: unknown config key runners.wokers (valid keys under runners: cpus, timeout, workers)"}, nil},
		{"unknown key in a list item", "repos:\n  - nam: a\n", []string{"f.yaml:2: unknown config key repos[0].nam (valid keys under repos[0]: keys, name, on)"}, nil},
		{"not a number", "runners: {workers: two}", []string{`f.yaml:1: config key runners.workers: want a whole number, got "two"`}, nil},
		{"not a duration", "runners: {timeout: soon}", []string{`f.yaml:1: config key runners.timeout: want a duration such as 30s, 10m or 2h, got "soon"`}, nil},
		{"not a bool", "migrate: maybe", []string{`f.yaml:1: config key migrate: want true or false, got "maybe"`}, nil},
		{"not a list", "repos: x", []string{`f.yaml:1: config key repos: want a list, like [a, b], got "x"`}, nil},
		{"not a mapping", "runners: 4", []string{`f.yaml:1: config key runners: want a mapping of keys, got "4"`}, nil},
		{"the top level not a mapping", "[a]", []string{`f.yaml:1: config key (top level): want a mapping of keys, got a list`}, nil},
		{"a list where a string belongs", "listen: [a]", []string{`f.yaml:1: config key listen: want a string, got a list`}, nil},
		{"null leaves the default", "runners:\nlisten: ~\n", nil, map[string]int{"runners": 1, "listen": 2}},
		{"merged keys are checked", "x: &d {nam: a}\nrepos:\n  - <<: *d\n", []string{"f.yaml:1: unknown config key x", "f.yaml:1: unknown config key repos[0].nam"}, nil},
		{"every problem at once", "listn: x\nrunners: {workers: two}\n", []string{"f.yaml:1: unknown config key listn", "f.yaml:2: config key runners.workers"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := config.Parse("f.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			d.Noun = "config key"
			lines := d.Check(reflect.TypeFor[serverLike]())
			got := d.Err()
			if len(tt.want) == 0 && got != nil {
				t.Fatalf("got %v, want no problem", got)
			}
			for _, w := range tt.want {
				if got == nil || !strings.Contains(got.Error(), w) {
					t.Errorf("got %v, want it to contain %q", got, w)
				}
			}
			if tt.wantLines != nil && !reflect.DeepEqual(lines, tt.wantLines) {
				t.Errorf("got lines %v, want %v", lines, tt.wantLines)
			}
		})
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := config.Parse("f.yaml", []byte("a: [\n"))
	var ce *config.Error
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "f.yaml:1: not valid YAML: ") {
		t.Fatalf("got %v, want a located *Error", err)
	}
}

// FuzzDocument feeds the engine what a gated repository (or an operator's
// typo) can: every input either parses or is a located *Error, and expansion,
// the schema check and every typed reader take any document without
// panicking and report only located *Errors.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{
		"listen: ${A}\nrunners: {workers: ${N}, timeout: 1m}\nrepos:\n  - name: a\n    keys: [${A}, ${NOPE}]\n",
		"x: &d {name: a}\nrepos:\n  - <<: *d\n    keys: [A]\n",
		"a: &a [x, *a]\n",
		"runners: |\n  ${A} # text\n",
		"? [a]\n: b\n",
		"owners: {github: [alice]}\nmigrate: ${T}\n",
		"suites: {a: {image: x, run: y, memory: 2g, timeout: 5m, env: {A: b}}}",
	} {
		f.Add([]byte(s))
	}
	env := envOf(map[string]string{"A": "a: #b", "N": "4", "T": "true"})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := config.ParseTemplate("f.yaml", data)
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %T (%v), want *Error", err, err)
			}
			return
		}
		d.Noun, d.Max = "config key", 0
		for _, u := range d.Expand(env) {
			if u.Line <= 0 {
				t.Fatalf("unset %s without a line", u.Name)
			}
		}
		d.Check(reflect.TypeFor[serverLike]())
		var v serverLike
		_ = d.Decode(&v)
		if d.Root != nil {
			readAll(d, d.Root, "", 0)
		}
		for _, e := range config.Split(d.Err()) {
			var ce *config.Error
			if !errors.As(e, &ce) || ce.File != "f.yaml" || ce.Line <= 0 {
				t.Fatalf("got %v, want a located *Error", e)
			}
		}
	})
}

// readAll calls every typed reader on every node, as a schema could.
func readAll(d *config.Document, n *yaml.Node, key string, depth int) {
	if depth > 20 {
		return
	}
	d.String(n, key)
	d.Int(n, key, 0, 10, "want 0 to 10")
	d.Float(n, key, 0, 64, "want a number")
	var b bool
	d.Bool(n, key, &b)
	d.Duration(n, key, time.Hour)
	d.Size(n, key, 16<<20, 256<<30)
	d.List(n, key)
	d.StringMap(n, key, func(string) bool { return true }, "bad")
	if n.Kind == yaml.MappingNode {
		known := map[string]*(*yaml.Node){}
		var a, b *yaml.Node
		known["a"], known["b"] = &a, &b
		d.Fields(n, key, known)
	}
	d.RequiredString(n, nil, key)
	for _, c := range n.Content {
		readAll(d, c, key+".x", depth+1)
	}
}
