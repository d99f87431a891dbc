package patchgate_test

import (
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestTokenNamedPatchgateIsRefused: candidates created under patchgate's own
// name are its automatic ones, which automatic proposals may supersede; a
// token of that name would make a person's candidates look automatic.
func TestTokenNamedPatchgateIsRefused(t *testing.T) {
	for _, name := range []string{"patchgate", "PatchGate"} {
		tok := &patchgate.Token{Name: name, Hash: strings.Repeat("a", 64), Role: patchgate.RoleReleaseManager}
		if err := tok.Validate(); patchgate.ErrorCode(err) != patchgate.EINVALID || !strings.Contains(err.Error(), "patchgate's own") {
			t.Errorf("token %q: got %v, want invalid: patchgate's own name", name, err)
		}
	}
	ok := &patchgate.Token{Name: "patchgate-ci", Hash: strings.Repeat("a", 64), Role: patchgate.RoleViewer}
	if err := ok.Validate(); err != nil {
		t.Errorf("token patchgate-ci: got %v, want valid", err)
	}
}
