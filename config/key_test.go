package config_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate/config"
)

func TestKeyEnv(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{"top level", "listen", "PATCHGATE_LISTEN"},
		{"nested", "runners.max_memory", "PATCHGATE_RUNNERS_MAX_MEMORY"},
		{"underscores kept", "release_webhook.url", "PATCHGATE_RELEASE_WEBHOOK_URL"},
		{"a list", "github.webhook_secrets", "PATCHGATE_GITHUB_WEBHOOK_SECRETS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (config.Key{Path: tt.path}).Env(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// envTarget has a key of every kind.
type envTarget struct {
	Name    string            `yaml:"name"`
	On      bool              `yaml:"on"`
	Inner   envInner          `yaml:"inner"`
	List    []string          `yaml:"list"`
	Items   []envItem         `yaml:"items"`
	Owners  map[string]string `yaml:"owners"`
	Skipped string            `yaml:"-"`
}

type envInner struct {
	Count  int           `yaml:"count"`
	Big    int64         `yaml:"big"`
	CPUs   float64       `yaml:"cpus"`
	Wait   time.Duration `yaml:"wait"`
	Memory string        `yaml:"memory"`
}

type envItem struct {
	A string `json:"a"`
}

var envKeys = []config.Key{
	{Path: "name", Kind: config.KindString},
	{Path: "on", Kind: config.KindBool},
	{Path: "inner.count", Kind: config.KindInt},
	{Path: "inner.big", Kind: config.KindInt},
	{Path: "inner.cpus", Kind: config.KindFloat},
	{Path: "inner.wait", Kind: config.KindDuration},
	{Path: "inner.memory", Kind: config.KindSize},
	{Path: "list", Kind: config.KindList},
	{Path: "items", Kind: config.KindJSON, Want: "a JSON list of items"},
	{Path: "owners", Kind: config.KindJSON, Want: "a JSON object"},
}

func TestApplyEnv(t *testing.T) {
	start := envTarget{Name: "file", List: []string{"x"}, Owners: map[string]string{"old": "o"}, Inner: envInner{Count: 1}}
	tests := []struct {
		name    string
		env     map[string]string
		want    func(*envTarget)
		wantErr string
	}{
		{"nothing set keeps the file", nil, func(*envTarget) {}, ""},
		{"a string", map[string]string{"PATCHGATE_NAME": "env"}, func(c *envTarget) { c.Name = "env" }, ""},
		{"an empty string is a value", map[string]string{"PATCHGATE_NAME": ""}, func(c *envTarget) { c.Name = "" }, ""},
		{"bool 1", map[string]string{"PATCHGATE_ON": "1"}, func(c *envTarget) { c.On = true }, ""},
		{"bool TRUE", map[string]string{"PATCHGATE_ON": "TRUE"}, func(c *envTarget) { c.On = true }, ""},
		{"bool anything else is false", map[string]string{"PATCHGATE_ON": "yes"}, func(*envTarget) {}, ""},
		{"int", map[string]string{"PATCHGATE_INNER_COUNT": "40"}, func(c *envTarget) { c.Inner.Count = 40 }, ""},
		{"int64", map[string]string{"PATCHGATE_INNER_BIG": "4096"}, func(c *envTarget) { c.Inner.Big = 4096 }, ""},
		{"not an int", map[string]string{"PATCHGATE_INNER_COUNT": "many"}, nil, `PATCHGATE_INNER_COUNT: want a number, got "many"`},
		{"float", map[string]string{"PATCHGATE_INNER_CPUS": "1.5"}, func(c *envTarget) { c.Inner.CPUs = 1.5 }, ""},
		{"duration", map[string]string{"PATCHGATE_INNER_WAIT": "90s"}, func(c *envTarget) { c.Inner.Wait = 90 * time.Second }, ""},
		{"not a duration", map[string]string{"PATCHGATE_INNER_WAIT": "soon"}, nil, `PATCHGATE_INNER_WAIT: want a duration such as 30s, 10m or 2h, got "soon"`},
		{"size kept as written", map[string]string{"PATCHGATE_INNER_MEMORY": "4g"}, func(c *envTarget) { c.Inner.Memory = "4g" }, ""},
		{"list replaces, comma-separated", map[string]string{"PATCHGATE_LIST": " a, ,b "}, func(c *envTarget) { c.List = []string{"a", "b"} }, ""},
		{"JSON list", map[string]string{"PATCHGATE_ITEMS": `[{"a":"1"}]`}, func(c *envTarget) { c.Items = []envItem{{A: "1"}} }, ""},
		{"JSON replaces a map", map[string]string{"PATCHGATE_OWNERS": `{"new":"n"}`}, func(c *envTarget) { c.Owners = map[string]string{"new": "n"} }, ""},
		{"bad JSON", map[string]string{"PATCHGATE_ITEMS": `[{`}, nil, "PATCHGATE_ITEMS: want a JSON list of items: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := start
			got.List = slices.Clone(start.List)
			got.Owners = map[string]string{"old": "o"}
			err := config.ApplyEnv(&got, envKeys, envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := start
			want.List = slices.Clone(start.List)
			want.Owners = map[string]string{"old": "o"}
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	t.Run("a path the struct does not have", func(t *testing.T) {
		var c envTarget
		err := config.ApplyEnv(&c, []config.Key{{Path: "inner.nope"}}, envOf(map[string]string{"PATCHGATE_INNER_NOPE": "x"}))
		if err == nil {
			t.Fatal("got no error, want the bad path named")
		}
	})
}

func TestLeaves(t *testing.T) {
	got := config.Leaves(reflect.TypeFor[envTarget]())
	want := []string{"name", "on", "inner.count", "inner.big", "inner.cpus", "inner.wait", "inner.memory", "list", "items", "owners"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
