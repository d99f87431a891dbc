package gate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestCandidateMustBeOnTheReleaseBranch: the gate alone, on SQLite with the
// fake forge. A commit the release branch does not contain (an unmerged
// head) cannot be proposed, and the refusal names the branch; the branch's
// head can, and it newly contains the merged fix.
func TestCandidateMustBeOnTheReleaseBranch(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	unmerged := sha('e')
	w.forge.AddCommit(relRepo, unmerged, map[string][]byte{"backdoor.txt": []byte("x")}, "not reviewed", "mallory", w.head)
	tests := []struct {
		name     string
		sha      string
		wantCode string
		wantMsg  string
	}{
		{name: "unmerged head", sha: unmerged, wantCode: patchgate.EUNPROCESSABLE, wantMsg: "not on the release branch main"},
		{name: "not a SHA", sha: "main", wantCode: patchgate.EINVALID, wantMsg: "want a full commit SHA"},
		{name: "branch head", sha: w.cand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := w.cands.CreateCandidate(ctx, patchgate.CandidateRequest{Repo: relRepo, SHA: tt.sha}, "ops")
			if tt.wantCode != "" {
				if patchgate.ErrorCode(err) != tt.wantCode || !strings.Contains(patchgate.ErrorMessage(err), tt.wantMsg) {
					t.Fatalf("got %v, want %s saying %q", err, tt.wantCode, tt.wantMsg)
				}
				return
			}
			if err != nil || c.SHA != tt.sha || c.BaseSHA != w.base || len(c.Items) != 1 || c.Items[0].TicketID != w.ticket.ID {
				t.Fatalf("got %+v, %v; want a candidate at %s over %s with PAY-1's fix", c, err, tt.sha[:7], w.base[:7])
			}
		})
	}
}
