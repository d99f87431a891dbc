package linking_test

import (
	"context"
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
	"github.com/patchgate/patchgate/usecase/linking"
)

const repoName = "acme/payments"

// world is linking alone: a real SQLite store, the fake forge behind the real
// GitHub client for the link comment, and a head verifier that records.
type world struct {
	forge   *fakeforge.Forge
	tickets *store.TicketService
	links   *store.LinkService
	heads   *recordingHeads
	linker  *linking.Linker
	repo    *patchgate.Repository
	db      *store.DB
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{heads: &recordingHeads{}}
	w.forge = fakeforge.New()
	t.Cleanup(w.forge.Close)
	w.forge.SetToken("tok")
	for _, n := range []int{3, 4} {
		w.forge.AddPullRequest(repoName, fakeforge.PullRequest{Number: n, Title: "fix", Author: "dev"})
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	w.db, w.tickets, w.links = db, store.NewTicketService(db), store.NewLinkService(db)
	w.repo = &patchgate.Repository{Forge: patchgate.GitHub, Name: repoName, TicketKeys: []string{"PAY"}, TitlePrefixFixes: true}
	w.linker = &linking.Linker{Tickets: w.tickets, Changes: store.NewChangeService(db), Links: w.links,
		Repos:      patchgate.NewRepositoryDirectory([]*patchgate.Repository{w.repo}),
		Commenters: map[patchgate.Forge]patchgate.Commenter{patchgate.GitHub: gh}, Heads: w.heads,
		Hosts: []string{"github.com"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return w
}

// pr is a pull request event on #number with title at head.
func pr(number int, action, title, head string) *patchgate.Event {
	return &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventChange, Action: action, Repo: repoName, Sender: "dev",
		Change: &patchgate.ChangeEvent{Number: number, Title: title, SourceBranch: "topic", TargetBranch: "main", HeadSHA: head,
			Author: "dev", State: patchgate.ChangeOpen, UpdatedAt: time.Now()}}
}

type recordingHeads struct{ heads []string }

func (r *recordingHeads) VerifyHead(_ context.Context, ch *patchgate.Change, trigger string) error {
	r.heads = append(r.heads, ch.HeadSHA+" "+trigger)
	return nil
}

// TestLinksFollowTheTitle: a PR whose title names PAY-7 is linked to it, with
// one link comment on the forge saying why, and its head goes to
// verification; a title edit that drops the key unlinks it, and the ticket's
// state follows.
func TestLinksFollowTheTitle(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	head := strings.Repeat("a", 40)
	if err := w.linker.ApplyChange(ctx, w.repo, pr(3, "opened", "PAY-7: fix rounding", head)); err != nil {
		t.Fatal(err)
	}
	tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-7")
	if err != nil || tk.State != patchgate.TicketFixProposed {
		t.Fatalf("PAY-7 after the PR: got %+v, %v; want fix_proposed", tk, err)
	}
	comments := w.forge.Comments(repoName, 3)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, linking.LinkCommentMarker) || !strings.Contains(comments[0].Body, "| PAY-7 | fixes | title mentions `PAY-7`") {
		t.Fatalf("got comments %+v, want one link comment naming PAY-7", comments)
	}
	if len(w.heads.heads) != 1 || w.heads.heads[0] != head+" opened" {
		t.Fatalf("got heads %v, want %s opened", w.heads.heads, head)
	}

	if err := w.linker.ApplyChange(ctx, w.repo, pr(3, "edited", "fix rounding", head)); err != nil {
		t.Fatal(err)
	}
	if tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-7"); err != nil || tk.State != patchgate.TicketOpen {
		t.Fatalf("PAY-7 after the edit: got %+v, %v; want open", tk, err)
	}
	comments = w.forge.Comments(repoName, 3)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "no tickets linked") {
		t.Fatalf("got comments %+v, want the one comment edited to say nothing is linked", comments)
	}
	if len(w.heads.heads) != 1 {
		t.Fatalf("a title edit verified again: %v", w.heads.heads)
	}
}

// TestManualLinkAndUnlink: a ticket linked by hand is linked with its
// provenance; unlinking it by reference removes every link between them.
func TestManualLinkAndUnlink(t *testing.T) {
	ctx := patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: "alice", Role: patchgate.RoleDeveloper})
	w := newWorld(t)
	if err := w.linker.ApplyChange(ctx, w.repo, pr(4, "opened", "fix rounding", strings.Repeat("b", 40))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		req     patchgate.ManualLinkRequest
		wantErr string
	}{
		{name: "not a ticket", req: patchgate.ManualLinkRequest{Repo: repoName, Ticket: "nonsense", Number: 4, Kind: patchgate.LinkFixes, By: "alice"}, wantErr: patchgate.EINVALID},
		{name: "unknown change", req: patchgate.ManualLinkRequest{Repo: repoName, Ticket: "PAY-9", Number: 99, Kind: patchgate.LinkFixes, By: "alice"}, wantErr: patchgate.ENOTFOUND},
		{name: "link", req: patchgate.ManualLinkRequest{Repo: repoName, Ticket: "PAY-9", Number: 4, Kind: patchgate.LinkFixes, By: "alice", Reason: "found in review"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := w.linker.LinkManually(ctx, tt.req)
			if tt.wantErr != "" {
				if got := patchgate.ErrorCode(err); got != tt.wantErr {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || l.Provenance != "linked by alice: found in review" || l.Ticket.Key != "PAY-9" {
				t.Fatalf("got %+v, %v; want PAY-9 linked by alice", l, err)
			}
		})
	}
	tk, ch, err := w.linker.UnlinkReference(ctx, patchgate.ManualLinkRequest{Repo: repoName, Ticket: "PAY-9", Number: 4, By: "alice"})
	if err != nil || tk.Key != "PAY-9" || ch.Number != 4 {
		t.Fatalf("unlink: got %v, %v, %v", tk, ch, err)
	}
	if links, err := w.links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &tk.ID}); err != nil || len(links) != 0 {
		t.Fatalf("after unlinking: got links %v, %v; want none", links, err)
	}
}
