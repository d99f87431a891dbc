package server

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"go.yaml.in/yaml/v3"
)

// TestOpenAPIDescribesEveryRoute keeps the OpenAPI document and the route table
// in step: every route must be documented with its method, and every documented
// operation must exist.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	param := regexp.MustCompile(`[:*]([a-z_]+)`) // :name and the catch-all *name
	routes := map[string]bool{}
	for _, r := range (&Server{}).engine().Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + path
		routes[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.yaml", r.Method, path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !routes[method+" "+path] {
				t.Errorf("openapi.yaml documents %s %s, which the server does not serve", method, path)
			}
		}
	}
}

// TestOpenAPIBlockerIsTheRootBlocker keeps the documented Blocker the one the
// API returns: its properties are patchgate.Blocker's JSON fields, and its
// codes are the table's, every one.
func TestOpenAPIBlockerIsTheRootBlocker(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `yaml:"enum"`
				} `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	schema, ok := doc.Components.Schemas["Blocker"]
	if !ok {
		t.Fatal("openapi.yaml has no Blocker schema")
	}
	raw, err := json.Marshal(patchgate.NewBlocker(patchgate.ReasonFixUnverified, "m").About("PAY-7", "#42"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for name := range fields {
		if _, ok := schema.Properties[name]; !ok {
			t.Errorf("Blocker field %q is not documented", name)
		}
	}
	for name := range schema.Properties {
		if _, ok := fields[name]; !ok {
			t.Errorf("openapi.yaml documents Blocker.%s, which the API does not return", name)
		}
	}
	var codes []string
	for _, r := range patchgate.Reasons {
		codes = append(codes, string(r.Code))
	}
	if got := schema.Properties["code"].Enum; !slices.Equal(got, codes) {
		t.Errorf("Blocker.code enum: got %v, want the table's %v", got, codes)
	}
}
