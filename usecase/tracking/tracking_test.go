package tracking_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/trackers/jira"
	"github.com/patchgate/patchgate/trackers/jira/fakejira"
	"github.com/patchgate/patchgate/usecase/tracking"
)

// TestTrackerSyncReadsAndReports: tracking alone, on SQLite with the fake
// Jira behind the real client. A ticket a forge event references is read from
// its tracker (its title and severity arrive), and a ticket whose state moved
// gets the one evidence comment and its configured transition, once.
func TestTrackerSyncReadsAndReports(t *testing.T) {
	ctx := context.Background()
	fake := fakejira.New("bot@example.com", "secret")
	t.Cleanup(fake.Close)
	created := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	fake.AddIssue(fakejira.Issue{Key: "PAY-7", Summary: "Rounding is off", Priority: "High", Created: created})
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tickets := store.NewTicketService(db)
	site := &tracking.TrackerSite{Name: "jira:acme",
		API:         jira.NewClient(&jira.Config{Name: "acme", URL: fake.URL(), Email: "bot@example.com", Token: "secret", Projects: []string{"PAY"}}, nil),
		Transitions: map[patchgate.TicketState]string{patchgate.TicketFixProposed: "In Review"}}
	sync := &tracking.TrackerSync{Tickets: tickets, Links: store.NewLinkService(db), Verifications: store.NewVerificationService(db),
		Updater: &tracking.Trackers{Tickets: tickets, Updates: tickets},
		Site: func(key string) *tracking.TrackerSite {
			if strings.HasPrefix(key, "PAY-") {
				return site
			}
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Retry: tracking.Retry{Attempts: 2, Backoff: time.Millisecond}}
	sync.Start()
	t.Cleanup(sync.Close)

	tk, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-7", Labels: []string{},
		Severity: patchgate.SeverityUnknown, State: patchgate.TicketOpen})
	if err != nil {
		t.Fatal(err)
	}
	sync.Referenced(tk)
	sync.Wait()
	if tk, err = tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-7"); err != nil || tk.Title != "Rounding is off" || tk.Severity != patchgate.SeverityHigh {
		t.Fatalf("after the read: got %+v, %v; want the issue's title and high severity", tk, err)
	}
	if issue, _ := fake.Issue("PAY-7"); len(issue.Comments) != 0 {
		t.Fatalf("an open ticket with no fix got comments %v", issue.Comments)
	}

	// A pull request claims the fix: the ticket is fix_proposed.
	ch, _, err := store.NewChangeService(db).ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: "acme/payments",
		Kind: patchgate.ChangePullRequest, Number: 3, Title: "PAY-7: fix", SourceBranch: "fix", TargetBranch: "main",
		HeadSHA: strings.Repeat("a", 40), Author: "dev", State: patchgate.ChangeOpen, UpdatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.NewLinkService(db).SyncExtractedLinks(ctx, ch.ID, []patchgate.LinkSource{patchgate.SourceTitle},
		[]*patchgate.Link{{TicketID: tk.ID, ChangeID: ch.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "PAY-7", CreatedBy: "patchgate"}}); err != nil {
		t.Fatal(err)
	}
	if tk, err = tickets.ReconcileTicket(ctx, tk.ID); err != nil || tk.State != patchgate.TicketFixProposed {
		t.Fatalf("after the link: got %+v, %v; want fix_proposed", tk, err)
	}
	for range 2 {
		sync.Changed(tk)
		sync.Wait()
	}
	issue, _ := fake.Issue("PAY-7")
	if len(issue.Comments) != 1 || !strings.Contains(issue.Comments[0].Body(), tracking.CommentMarker) {
		t.Fatalf("got comments %+v, want the one evidence comment", issue.Comments)
	}
	if len(issue.Transitions) != 1 || issue.Transitions[0] != "In Review" {
		t.Fatalf("got transitions %v, want In Review once", issue.Transitions)
	}
	// The comment says what the fix waits on, with its code and next action.
	unverified, _ := patchgate.ReasonFor(patchgate.ReasonFixUnverified)
	want := "Waiting on:\n* PAY-7: fix in #3 has no verdict on aaaaaaa yet ({{fix_unverified}}) → " + unverified.Action + "\n"
	if body := issue.Comments[0].Body(); !strings.Contains(body, want) {
		t.Errorf("comment: got %q, want it to contain %q", body, want)
	}
}
