package patchgate_test

import (
	"reflect"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestMergeReleasePolicy(t *testing.T) {
	set := func(keys ...string) map[string]bool {
		m := map[string]bool{}
		for _, k := range keys {
			m[k] = true
		}
		return m
	}
	floor := patchgate.ReleasePolicy{Approvals: 2, Required: []string{"unit"}}
	loose := patchgate.ReleasePolicy{Approvals: 1, AllowAuthorApproval: true, AutoPromote: true, RequireProof: false, Required: []string{"unit"}}
	tests := []struct {
		name         string
		floor        patchgate.ReleasePolicy
		file         patchgate.ReleaseRequest
		want         patchgate.ReleasePolicy
		sources      map[string]patchgate.PolicySource
		wantBlockers []string
	}{
		{
			name:  "a file that asks nothing gets the floor",
			floor: floor,
			file:  patchgate.ReleaseRequest{Policy: patchgate.ReleasePolicy{Approvals: 1, Required: []string{"unit"}}},
			want:  patchgate.ReleasePolicy{Approvals: 2, Required: []string{"unit"}},
			sources: map[string]patchgate.PolicySource{"approvals": "server", "allow_author_approval": "server",
				"auto_promote": "server", "require_proof": "server", "required.unit": "server"},
		},
		{
			name:  "a file that tightens wins, and says so",
			floor: patchgate.ReleasePolicy{Approvals: 1, AllowAuthorApproval: true, AutoPromote: true},
			file: patchgate.ReleaseRequest{Policy: patchgate.ReleasePolicy{Approvals: 3, RequireProof: true, Required: []string{"e2e"}},
				Set: set("approvals", "allow_author_approval", "auto_promote", "require_proof", "required")},
			want: patchgate.ReleasePolicy{Approvals: 3, RequireProof: true, Required: []string{"e2e"}},
			sources: map[string]patchgate.PolicySource{"approvals": "repository file", "allow_author_approval": "repository file",
				"auto_promote": "repository file", "require_proof": "repository file", "required.e2e": "repository file"},
		},
		{
			name:  "a file that loosens loses, with a blocker for each key",
			floor: patchgate.ReleasePolicy{Approvals: 2, RequireProof: true, Required: []string{"unit"}},
			file:  patchgate.ReleaseRequest{Policy: loose, Set: set("approvals", "allow_author_approval", "auto_promote", "require_proof")},
			want:  patchgate.ReleasePolicy{Approvals: 2, RequireProof: true, Required: []string{"unit"}},
			sources: map[string]patchgate.PolicySource{"approvals": "server", "allow_author_approval": "server",
				"auto_promote": "server", "require_proof": "server", "required.unit": "server"},
			wantBlockers: []string{
				"`.patchgate.yml` asks approvals: 1; the server requires at least 2",
				"`.patchgate.yml` asks allow_author_approval: true; the server does not let authors approve",
				"`.patchgate.yml` asks auto_promote: true; the server does not allow automatic promotion",
				"`.patchgate.yml` asks require_proof: false; the server requires proof",
			},
		},
		{
			name:  "the default floor keeps authors out and promotion by hand",
			floor: patchgate.DefaultReleaseFloor(),
			file:  patchgate.ReleaseRequest{Policy: loose, Set: set("approvals", "allow_author_approval", "auto_promote")},
			want:  patchgate.ReleasePolicy{Approvals: 1, Required: []string{"unit"}},
			sources: map[string]patchgate.PolicySource{"approvals": "server", "allow_author_approval": "server",
				"auto_promote": "server", "require_proof": "server", "required.unit": "repository file"},
			wantBlockers: []string{
				"`.patchgate.yml` asks allow_author_approval: true; the server does not let authors approve",
				"`.patchgate.yml` asks auto_promote: true; the server does not allow automatic promotion",
			},
		},
		{
			name:  "a floor that allows what the file asks",
			floor: patchgate.ReleasePolicy{Approvals: 1, AllowAuthorApproval: true, AutoPromote: true},
			file:  patchgate.ReleaseRequest{Policy: loose, Set: set("approvals", "allow_author_approval", "auto_promote")},
			want:  patchgate.ReleasePolicy{Approvals: 1, AllowAuthorApproval: true, AutoPromote: true, Required: []string{"unit"}},
			sources: map[string]patchgate.PolicySource{"approvals": "server", "allow_author_approval": "server",
				"auto_promote": "server", "require_proof": "server", "required.unit": "repository file"},
		},
		{
			name:  "server-required suites the file leaves out block",
			floor: patchgate.ReleasePolicy{Approvals: 1, Required: []string{"unit", "e2e"}},
			file:  patchgate.ReleaseRequest{Policy: patchgate.ReleasePolicy{Approvals: 1, Required: []string{"lint"}}, Set: set("required")},
			want:  patchgate.ReleasePolicy{Approvals: 1, Required: []string{"unit", "e2e", "lint"}},
			sources: map[string]patchgate.PolicySource{"approvals": "server", "allow_author_approval": "server",
				"auto_promote": "server", "require_proof": "server", "required.unit": "server", "required.e2e": "server",
				"required.lint": "repository file"},
			wantBlockers: []string{"`.patchgate.yml` does not require `unit`, `e2e`; the server requires those suites to pass"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, blockers := patchgate.MergeReleasePolicy(tt.floor, tt.file)
			if !reflect.DeepEqual(got.ReleasePolicy, tt.want) {
				t.Errorf("got policy %+v, want %+v", got.ReleasePolicy, tt.want)
			}
			if !reflect.DeepEqual(got.Sources, tt.sources) {
				t.Errorf("got sources %v, want %v", got.Sources, tt.sources)
			}
			if got := patchgate.BlockerMessages(blockers); len(got)+len(tt.wantBlockers) > 0 && !reflect.DeepEqual(got, tt.wantBlockers) {
				t.Errorf("got blockers %q, want %q", got, tt.wantBlockers)
			}
			for _, b := range blockers {
				if b.Code != patchgate.ReasonPolicyLoosened {
					t.Errorf("blocker %q: got code %q, want %q", b.Message, b.Code, patchgate.ReasonPolicyLoosened)
				}
			}
		})
	}
}

func TestEffectivePolicySettings(t *testing.T) {
	eff, _ := patchgate.MergeReleasePolicy(patchgate.ReleasePolicy{Approvals: 2, Required: []string{"unit"}},
		patchgate.ReleaseRequest{Policy: patchgate.ReleasePolicy{Approvals: 1, RequireProof: true, Required: []string{"e2e"}},
			Set: map[string]bool{"require_proof": true, "required": true}})
	want := []patchgate.PolicySetting{
		{Key: "approvals", Value: "2", Source: "server"},
		{Key: "allow_author_approval", Value: "false", Source: "server"},
		{Key: "auto_promote", Value: "false", Source: "server"},
		{Key: "require_proof", Value: "true", Source: "repository file"},
		{Key: "required", Value: "unit", Source: "server"},
		{Key: "required", Value: "e2e", Source: "repository file"},
	}
	if got := eff.Settings(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
