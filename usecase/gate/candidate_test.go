package gate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
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

// TestNamedCandidateIsNotSupersededByTheAutomaticOne: a release manager's
// `release create --name v1.6.0` at the branch head stays the candidate when
// the automatic proposal for the same commit comes moments later; and a named
// create at the commit of an open automatic candidate names that candidate
// (audited) instead of racing it.
func TestNamedCandidateIsNotSupersededByTheAutomaticOne(t *testing.T) {
	ctx := context.Background()
	auto := patchgate.CandidateRequest{Repo: relRepo, SHA: sha('4')}
	named := patchgate.CandidateRequest{Repo: relRepo, SHA: sha('4'), Name: "v1.6.0"}

	t.Run("named first", func(t *testing.T) {
		w := newReleaseWorld(t)
		c, err := w.cands.CreateCandidate(ctx, named, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.cands.CreateCandidate(ctx, auto, patchgate.AutoProposer); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
			t.Fatalf("automatic proposal at the named candidate's commit: got %v, want ECONFLICT", err)
		}
		if got, _ := w.releases.FindCandidateByID(ctx, c.ID); got.State != patchgate.CandidateOpen || got.Name != "v1.6.0" {
			t.Fatalf("named candidate after the automatic proposal: got %s %s, want open v1.6.0", got.Name, got.State)
		}
	})
	t.Run("automatic first", func(t *testing.T) {
		w := newReleaseWorld(t)
		a, err := w.cands.CreateCandidate(ctx, auto, patchgate.AutoProposer)
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.cands.CreateCandidate(ctx, named, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != a.ID || c.Name != "v1.6.0" || c.State != patchgate.CandidateOpen || len(c.Items) != 1 {
			t.Fatalf("named create at the automatic candidate's commit: got %d %s %s with %d items, want %d renamed v1.6.0, open, 1 item",
				c.ID, c.Name, c.State, len(c.Items), a.ID)
		}
		action := patchgate.AuditCandidateRenamed
		entries, err := store.NewAuditService(w.db).FindAudit(ctx, patchgate.AuditFilter{Action: &action})
		if err != nil || len(entries) != 1 || entries[0].Detail["from"] != a.Name || entries[0].Detail["name"] != "v1.6.0" || entries[0].Actor != "alice" {
			t.Fatalf("audit of the rename: got %+v, %v; want one entry by alice from %s to v1.6.0", entries, err, a.Name)
		}
	})
}
