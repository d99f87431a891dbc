package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/delivery"
	"github.com/patchgate/patchgate/usecase/linking"
)

// TestStoredDeliveriesAreApplied: delivery alone, on SQLite with the fake
// forge behind the real GitHub client. Stored deliveries are parsed and
// dispatched by kind, and each outcome is recorded: a pull request links its
// ticket (and the link comment reaches the forge), a deleted branch and an
// unconfigured repository are ignored with their reason.
func TestStoredDeliveriesAreApplied(t *testing.T) {
	ctx := context.Background()
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	forge.AddPullRequest(propRepo, fakeforge.PullRequest{Number: 3, Title: "fix", Author: "dev"})
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tickets, deliveries := store.NewTicketService(db), store.NewDeliveryService(db)
	repos := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: propRepo, TicketKeys: []string{"PAY"}}})
	linker := &linking.Linker{Tickets: tickets, Changes: store.NewChangeService(db), Links: store.NewLinkService(db), Repos: repos,
		Commenters: map[patchgate.Forge]patchgate.Commenter{patchgate.GitHub: gh}, Logger: logger}
	p := &delivery.Processor{
		Deliveries: deliveries,
		// The payloads are the parsed events themselves, as JSON.
		Parser: delivery.ParseFunc(func(_ patchgate.DeliverySource, _ string, body []byte) (*patchgate.Event, string, error) {
			var ev patchgate.Event
			return &ev, "", json.Unmarshal(body, &ev)
		}),
		Events:   &delivery.Dispatcher{Repos: repos, Links: linker},
		Logger:   logger,
		Settings: delivery.Settings{Holder: "test", Poll: 20 * time.Millisecond},
	}
	p.Init()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	tests := []struct {
		name        string
		ev          *patchgate.Event
		wantOutcome patchgate.DeliveryOutcome
		wantReason  string
	}{
		{name: "pull request", ev: &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventChange, Action: "opened", Repo: propRepo,
			Change: &patchgate.ChangeEvent{Number: 3, Title: "Fixes PAY-4", SourceBranch: "fix", TargetBranch: "main",
				HeadSHA: strings.Repeat("a", 40), Author: "dev", State: patchgate.ChangeOpen, UpdatedAt: time.Now()}},
			wantOutcome: patchgate.OutcomeProcessed},
		{name: "deleted branch", ev: &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventPush, Repo: propRepo,
			Push: &patchgate.PushEvent{Branch: "old", Deleted: true}},
			wantOutcome: patchgate.OutcomeIgnored, wantReason: "branch deleted or not a branch"},
		{name: "unconfigured repository", ev: &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventChange, Repo: "someone/else"},
			wantOutcome: patchgate.OutcomeIgnored, wantReason: "repository someone/else is not configured"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			id := "d-" + string(rune('a'+i))
			if _, err := deliveries.CreateDelivery(ctx, &patchgate.Delivery{ID: id, Source: patchgate.SourceGitHub, Event: "test",
				Repo: tt.ev.Repo, Payload: body}); err != nil {
				t.Fatal(err)
			}
			p.Inbox.NotifyRepo(patchgate.SourceGitHub, tt.ev.Repo)
			deadline := time.Now().Add(10 * time.Second)
			for {
				d, err := deliveries.FindDelivery(ctx, patchgate.SourceGitHub, id)
				if err != nil {
					t.Fatal(err)
				}
				if d.Outcome != patchgate.OutcomePending {
					if d.Outcome != tt.wantOutcome || d.Reason != tt.wantReason {
						t.Fatalf("got %s %q, want %s %q", d.Outcome, d.Reason, tt.wantOutcome, tt.wantReason)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("not applied within 10 s")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	if tk, err := tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-4"); err != nil || tk.State != patchgate.TicketFixProposed {
		t.Fatalf("PAY-4: got %+v, %v; want fix_proposed", tk, err)
	}
	if comments := forge.Comments(propRepo, 3); len(comments) != 1 || !strings.Contains(comments[0].Body, "PAY-4") {
		t.Fatalf("got comments %+v, want the link comment naming PAY-4", comments)
	}
}
