package patchgate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
)

func TestHeadVerdict(t *testing.T) {
	v := func(state patchgate.RunState, stale bool) patchgate.VerdictEvidence {
		return patchgate.VerdictEvidence{State: state, Stale: stale}
	}
	proven := func(e patchgate.VerdictEvidence, p patchgate.ProofState, required bool) patchgate.VerdictEvidence {
		e.Proof, e.ProofRequired = p, required
		return e
	}
	tests := []struct {
		name         string
		newestFirst  []patchgate.VerdictEvidence
		want         patchgate.RunState
		wantProof    patchgate.ProofState
		wantRequired bool
	}{
		{"none", nil, "", "", false},
		{"the newest counts", []patchgate.VerdictEvidence{v(patchgate.RunFailure, false), v(patchgate.RunSuccess, false)}, patchgate.RunFailure, "", false},
		{"still running counts", []patchgate.VerdictEvidence{v(patchgate.RunRunning, false), v(patchgate.RunSuccess, false)}, patchgate.RunRunning, "", false},
		{"a canceled one is skipped", []patchgate.VerdictEvidence{v(patchgate.RunCanceled, false), v(patchgate.RunSuccess, false)}, patchgate.RunSuccess, "", false},
		{"a stale one is skipped", []patchgate.VerdictEvidence{v(patchgate.RunSuccess, true), v(patchgate.RunFailure, false)}, patchgate.RunFailure, "", false},
		{"only stale ones", []patchgate.VerdictEvidence{v(patchgate.RunSuccess, true)}, "", "", false},
		{"the proof of the one that counts", []patchgate.VerdictEvidence{
			proven(v(patchgate.RunCanceled, false), patchgate.ProofNone, false),
			proven(v(patchgate.RunSuccess, false), patchgate.ProofHolds, true)}, patchgate.RunSuccess, patchgate.ProofHolds, true},
		{"required without a proof", []patchgate.VerdictEvidence{proven(v(patchgate.RunSuccess, false), "", true)}, patchgate.RunSuccess, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, proof, required := patchgate.HeadVerdict(tt.newestFirst)
			if got != tt.want || proof != tt.wantProof || required != tt.wantRequired {
				t.Fatalf("got %q, proof %q, required %v; want %q, proof %q, required %v", got, proof, required, tt.want, tt.wantProof, tt.wantRequired)
			}
		})
	}
}

func TestLandedVerdict(t *testing.T) {
	v := func(state patchgate.RunState, stale bool) patchgate.VerdictEvidence {
		return patchgate.VerdictEvidence{State: state, Stale: stale}
	}
	tests := []struct {
		name        string
		newestFirst []patchgate.VerdictEvidence
		want        patchgate.RunState
	}{
		{"none", nil, ""},
		{"the newest final one counts", []patchgate.VerdictEvidence{v(patchgate.RunSuccess, false), v(patchgate.RunFailure, false)}, patchgate.RunSuccess},
		{"a running one is skipped", []patchgate.VerdictEvidence{v(patchgate.RunRunning, false), v(patchgate.RunFailure, false)}, patchgate.RunFailure},
		{"a queued one is skipped", []patchgate.VerdictEvidence{v(patchgate.RunQueued, false)}, ""},
		{"a canceled one is skipped", []patchgate.VerdictEvidence{v(patchgate.RunCanceled, false), v(patchgate.RunSuccess, false)}, patchgate.RunSuccess},
		{"a stale one still counts", []patchgate.VerdictEvidence{v(patchgate.RunSuccess, true), v(patchgate.RunFailure, false)}, patchgate.RunSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patchgate.LandedVerdict(tt.newestFirst); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReleaseVerdict(t *testing.T) {
	v := func(state patchgate.RunState, stale bool, digest string) patchgate.VerdictEvidence {
		return patchgate.VerdictEvidence{State: state, Stale: stale, ConfigDigest: digest}
	}
	tests := []struct {
		name        string
		newestFirst []patchgate.VerdictEvidence
		want        int
	}{
		{name: "none", want: -1},
		{name: "the newest under the release branch's file", newestFirst: []patchgate.VerdictEvidence{v(patchgate.RunFailure, false, "rel"), v(patchgate.RunSuccess, false, "rel")}, want: 0},
		{name: "a newer pass under another file does not count", newestFirst: []patchgate.VerdictEvidence{v(patchgate.RunSuccess, false, "fork"), v(patchgate.RunFailure, false, "rel")}, want: 1},
		{name: "only other files: nothing counts", newestFirst: []patchgate.VerdictEvidence{v(patchgate.RunSuccess, false, "fork")}, want: -1},
		{name: "canceled and stale are skipped", newestFirst: []patchgate.VerdictEvidence{v(patchgate.RunCanceled, false, "rel"), v(patchgate.RunSuccess, true, "rel"), v(patchgate.RunSuccess, false, "rel")}, want: 2},
		{name: "an unplanned verification has no file yet", newestFirst: []patchgate.VerdictEvidence{v(patchgate.RunQueued, false, "")}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patchgate.ReleaseVerdict(tt.newestFirst, "rel"); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
