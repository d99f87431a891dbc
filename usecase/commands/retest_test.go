package commands_test

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
	"github.com/patchgate/patchgate/usecase/commands"
	"github.com/patchgate/patchgate/usecase/people"
)

// TestRetestByComment: "/patchgate retest" alone, on SQLite with the fake
// forge, people compared by the forge's user ids. A maintainer re-runs any
// change's head, a fork's too; the author re-runs their own change only when
// it runs without a maintainer's word anyway (not from a fork, in a
// repository that trusts every writer); anyone else, and a head the forge does
// not report, are refused in words. Each comment acts once.
func TestRetestByComment(t *testing.T) {
	ctx := context.Background()
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	changes := store.NewChangeService(db)
	own, fork := strings.Repeat("a", 40), strings.Repeat("f", 40)
	for _, pr := range []struct {
		number       int
		author, head string
		fromFork     bool
	}{{6, "author", own, false}, {8, "forker", fork, true}} {
		forge.AddPullRequest(repoName, fakeforge.PullRequest{Number: pr.number, Title: "fix", Author: pr.author, HeadSHA: pr.head})
		if _, _, err := changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: repoName,
			Kind: patchgate.ChangePullRequest, Number: pr.number, Title: "fix", SourceBranch: "fix", TargetBranch: "main",
			HeadSHA: pr.head, Author: pr.author, FromFork: pr.fromFork, State: patchgate.ChangeOpen, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	verifier := &recordingVerifier{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &commands.Handler{Changes: changes, Verifier: verifier, Commands: store.NewCommandService(db),
		Commenters: map[patchgate.Forge]patchgate.Commenter{patchgate.GitHub: gh},
		Comments:   map[patchgate.Forge]patchgate.CommentReader{patchgate.GitHub: gh},
		People: &people.Directory{ReleaseManagers: map[patchgate.Forge][]string{patchgate.GitHub: {"maintainer"}},
			Pins: store.NewPersonService(db), Lookups: map[patchgate.Forge]patchgate.UserLookup{patchgate.GitHub: gh}, Logger: logger},
		Logger: logger}
	everyone := &patchgate.Repository{Forge: patchgate.GitHub, Name: repoName}
	listed := &patchgate.Repository{Forge: patchgate.GitHub, Name: repoName, TrustedUsers: []string{"maintainer"}}
	var next int64 = 100
	retest := func(number int, author string) *patchgate.Event {
		next++
		at := time.Now().UTC().Truncate(time.Second)
		forge.PutComment(repoName, fakeforge.Comment{ID: next, Number: number, Author: author, Body: patchgate.RetestComment, CreatedAt: at})
		return &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventComment, Action: "created", Repo: repoName, Sender: author,
			Comment: &patchgate.CommentEvent{ID: next, Body: patchgate.RetestComment, Author: author, Number: number, OnChange: true, CreatedAt: at, UpdatedAt: at}}
	}
	for _, tt := range []struct {
		name        string
		repo        *patchgate.Repository
		ev          *patchgate.Event
		forgeHead   string // the head the forge reports for the PR; its own when ""
		wantOutcome patchgate.DeliveryOutcome
		wantAnswer  string
	}{
		{"the author of their own change", everyone, retest(6, "author"), "", patchgate.OutcomeProcessed, "verifying aaaaaaa again"},
		{"someone else", everyone, retest(6, "mallory"), "", patchgate.OutcomeIgnored, "mallory (forge user id"},
		{"the author of a fork's change", everyone, retest(8, "forker"), "", patchgate.OutcomeIgnored, "comes from a fork"},
		{"a maintainer, a fork's change", everyone, retest(8, "maintainer"), "", patchgate.OutcomeProcessed, "verifying fffffff again"},
		{"the author where trust is listed", listed, retest(6, "author"), "", patchgate.OutcomeIgnored, "author is not a trusted user"},
		{"a head the forge does not report", everyone, retest(6, "author"), strings.Repeat("b", 40), patchgate.OutcomeIgnored,
			"github reports head bbbbbbb for acme/payments#6, patchgate knows aaaaaaa"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.ev.Comment
			head := map[int]string{6: own, 8: fork}[c.Number]
			if tt.forgeHead != "" {
				head = tt.forgeHead
			}
			author := map[int]string{6: "author", 8: "forker"}[c.Number]
			forge.AddPullRequest(repoName, fakeforge.PullRequest{Number: c.Number, Title: "fix", Author: author, HeadSHA: head})
			outcome, reason, err := h.ApplyComment(ctx, tt.repo, tt.ev)
			if err != nil || outcome != tt.wantOutcome || (outcome == patchgate.OutcomeIgnored && !strings.Contains(reason, tt.wantAnswer)) {
				t.Fatalf("got %s, %q, %v; want %s saying %q", outcome, reason, err, tt.wantOutcome, tt.wantAnswer)
			}
			var answers []string
			for _, cm := range forge.Comments(repoName, c.Number) {
				if strings.Contains(cm.Body, commands.CommandCommentMarker) {
					answers = append(answers, cm.Body)
				}
			}
			if len(answers) != 1 || !strings.Contains(answers[0], tt.wantAnswer) {
				t.Fatalf("got answers %q, want the one command comment saying %q", answers, tt.wantAnswer)
			}
		})
	}
	want := []string{"aaaaaaa retest by author", "fffffff retest by maintainer"}
	if strings.Join(verifier.triggers, "|") != strings.Join(want, "|") {
		t.Fatalf("got verifications %q, want %q", verifier.triggers, want)
	}
	// The author's comment, delivered again, does not run a second time.
	forge.AddPullRequest(repoName, fakeforge.PullRequest{Number: 6, Title: "fix", Author: "author", HeadSHA: own})
	at := time.Now().UTC().Truncate(time.Second)
	forge.PutComment(repoName, fakeforge.Comment{ID: 101, Number: 6, Author: "author", Body: patchgate.RetestComment, CreatedAt: at})
	again := &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventComment, Action: "created", Repo: repoName, Sender: "author",
		Comment: &patchgate.CommentEvent{ID: 101, Body: patchgate.RetestComment, Author: "author", Number: 6, OnChange: true, CreatedAt: at, UpdatedAt: at}}
	if outcome, reason, err := h.ApplyComment(ctx, everyone, again); err != nil || outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "already acted") {
		t.Fatalf("the same comment again: got %s %q %v, want ignored, already acted", outcome, reason, err)
	}
}
