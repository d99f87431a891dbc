package gate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestFirstReleaseCountsOnlyWhatItsCommitContains: the first release of a
// repository (no previous release) contains only the changes merged into its
// own commit; PR #8, merged into main after it, is not in it and its ticket
// is not marked released when it is promoted.
func TestFirstReleaseCountsOnlyWhatItsCommitContains(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorldAfter(t, false)
	head8, merge8 := sha('8'), sha('9')
	w.forge.AddCommit(relRepo, head8, map[string][]byte{"fix8.txt": []byte("fixed")}, "fix 8", "dev", w.merge)
	w.forge.AddCommit(relRepo, merge8, map[string][]byte{"fix8.txt": []byte("fixed")}, "Merge #8", "dev", w.merge, head8)
	w.forge.SetBranch(relRepo, "main", merge8)
	pr8, _, err := w.changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: 8, Title: "PAY-8: fix",
		SourceBranch: "fix/PAY-8", TargetBranch: "main", HeadSHA: head8, Author: "dev",
		State: patchgate.ChangeMerged, MergeCommitSHA: merge8, UpdatedAt: time.Date(2026, 11, 1, 0, 3, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	pay8, err := w.tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-8", Labels: []string{}, Severity: patchgate.SeverityHigh, State: patchgate.TicketFixMerged})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.links.SyncExtractedLinks(ctx, pr8.ID, []patchgate.LinkSource{patchgate.SourceTitle},
		[]*patchgate.Link{{TicketID: pay8.ID, ChangeID: pr8.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "Fixes PAY-8", CreatedBy: "patchgate"}}); err != nil {
		t.Fatal(err)
	}
	w.verify(w.merge, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)

	c, err := w.cands.CreateCandidate(ctx, patchgate.CandidateRequest{Repo: relRepo, SHA: w.merge, Name: "v1.0.0"}, "ops")
	if err != nil {
		t.Fatalf("propose the first release at #1's merge: %v", err)
	}
	var keys []string
	for _, it := range c.Items {
		if it.Ticket != nil {
			keys = append(keys, it.Ticket.Key)
		}
	}
	if len(c.Items) != 1 || strings.Join(keys, ",") != "PAY-1" {
		t.Fatalf("first release at #1's merge: got %d items with tickets %v, want #1 with PAY-1 only", len(c.Items), keys)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, w.person("alice")); err != nil {
		t.Fatalf("promote: %v", err)
	}
	if tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-1"); err != nil || tk.State != patchgate.TicketReleased {
		t.Fatalf("PAY-1 after promoting its release: got %+v, %v; want released", tk, err)
	}
	if tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-8"); err != nil || tk.State == patchgate.TicketReleased {
		t.Fatalf("PAY-8 after promoting a release without #8: got %+v, %v; want not released", tk, err)
	}
}
