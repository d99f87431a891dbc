package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestReleaseShowClosedCandidate: `release show` of a superseded or promoted
// candidate says its state, not "releasable" or blockers it can no longer
// clear; an open one still shows its gate.
func TestReleaseShowClosedCandidate(t *testing.T) {
	for _, tc := range []struct {
		state      patchgate.CandidateState
		releasable bool
		want, not  string
	}{
		{patchgate.CandidateSuperseded, true, "superseded by a newer candidate", "releasable"},
		{patchgate.CandidateSuperseded, false, "superseded by a newer candidate", "blocked"},
		{patchgate.CandidatePromoted, true, "  promoted\n", "releasable"},
		{patchgate.CandidateOpen, false, "blocked:\n    PAY-7 is not verified", "superseded"},
		{patchgate.CandidateOpen, true, "releasable; needs 1 more approval", "superseded"},
	} {
		var buf bytes.Buffer
		ev := &patchgate.Evaluation{Releasable: tc.releasable, Needed: 1}
		if !tc.releasable {
			ev.Blockers = []patchgate.Blocker{patchgate.NewBlocker(patchgate.ReasonFixUnverified, "PAY-7 is not verified")}
		}
		printRelease(&buf, &patchgate.Candidate{ID: 4, Name: "v1", Repo: testRepo, SHA: strings.Repeat("a", 40), State: tc.state}, ev)
		if out := buf.String(); !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) {
			t.Errorf("%s candidate (releasable %v): got\n%s\nwant %q and no %q", tc.state, tc.releasable, out, tc.want, tc.not)
		}
	}
}
