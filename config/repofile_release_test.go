package config_test

import (
	"reflect"
	"testing"

	"github.com/patchgate/patchgate/config"
)

// TestReleaseRequestSaysWhichKeysTheFileWrote: only keys the file wrote ask
// anything of the server's floor; a default (approvals 1) asks nothing.
func TestReleaseRequestSaysWhichKeysTheFileWrote(t *testing.T) {
	const suites = "suites:\n  unit:\n    image: golang:1.26\n    run: go test ./...\n"
	tests := []struct {
		name string
		yaml string
		want map[string]bool
	}{
		{name: "no release block", yaml: suites, want: map[string]bool{}},
		{name: "empty release block", yaml: suites + "release:\n  branch: main\n", want: map[string]bool{}},
		{name: "every key", yaml: suites + "release:\n  approvals: 1\n  allow_author_approval: true\n  auto_promote: true\n  require_proof: false\n  required: [unit]\n",
			want: map[string]bool{"approvals": true, "allow_author_approval": true, "auto_promote": true, "require_proof": true, "required": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.ParseRepoFile(".patchgate.yml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			req := cfg.Release.Request()
			got := req.Set
			if got == nil {
				got = map[string]bool{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got set %v, want %v", got, tt.want)
			}
			if req.Policy.Approvals != cfg.Release.Approvals || !reflect.DeepEqual(req.Policy.Required, cfg.Release.Required) {
				t.Errorf("got request %+v, want the file's values %+v", req.Policy, cfg.Release)
			}
		})
	}
}
