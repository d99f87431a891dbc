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

const repoName = "acme/payments"

// recordingVerifier records the heads it was asked to verify.
type recordingVerifier struct{ triggers []string }

func (r *recordingVerifier) Verify(_ context.Context, ch *patchgate.Change, trigger string) (*patchgate.Verification, error) {
	r.triggers = append(r.triggers, patchgate.ShortSHA(ch.HeadSHA)+" "+trigger)
	return &patchgate.Verification{SHA: ch.HeadSHA}, nil
}

// TestOkToTestByComment: comment commands alone, on SQLite with the fake
// forge. A maintainer's ok-to-test vouches for the head the forge reports for
// the PR when patchgate reads it: the head patchgate knows is verified once
// when the forge agrees; when the forge reports another head, the vouch is for
// that head only and nothing runs now. The answer is the one command comment
// on the forge; anyone else's, or the same comment again, is refused in words.
func TestOkToTestByComment(t *testing.T) {
	ctx := context.Background()
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	known, pushed := strings.Repeat("c", 40), strings.Repeat("d", 40)
	forgeHead := func(head string) {
		forge.AddPullRequest(repoName, fakeforge.PullRequest{Number: 5, Title: "fix", Author: "stranger", HeadSHA: head})
	}
	forgeHead(known)
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	changes := store.NewChangeService(db)
	if _, _, err := changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: repoName,
		Kind: patchgate.ChangePullRequest, Number: 5, Title: "fix", SourceBranch: "fix", TargetBranch: "main",
		HeadSHA: known, Author: "stranger", FromFork: true, State: patchgate.ChangeOpen, UpdatedAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	verifier := &recordingVerifier{}
	repo := &patchgate.Repository{Forge: patchgate.GitHub, Name: repoName, TrustedUsers: []string{"maintainer"}}
	cmds := store.NewCommandService(db)
	h := &commands.Handler{Changes: changes, Verifier: verifier, Commands: cmds,
		Commenters: map[patchgate.Forge]patchgate.Commenter{patchgate.GitHub: gh},
		Comments:   map[patchgate.Forge]patchgate.CommentReader{patchgate.GitHub: gh},
		People: &people.Directory{Pins: store.NewPersonService(db), Lookups: map[patchgate.Forge]patchgate.UserLookup{patchgate.GitHub: gh},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// claimed is a delivery of a comment by author, which the forge has as
	// written by forgeAuthor ("": it has no such comment).
	claimed := func(id int64, author, forgeAuthor string, at time.Time) *patchgate.Event {
		body := "looks fine\n" + patchgate.OkToTestComment
		if forgeAuthor != "" {
			forge.PutComment(repoName, fakeforge.Comment{ID: id, Number: 5, Author: forgeAuthor, Body: body, CreatedAt: at.Truncate(time.Second)})
		}
		return &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventComment, Action: "created", Repo: repoName, Sender: author,
			Comment: &patchgate.CommentEvent{ID: id, Body: body, Author: author, Number: 5,
				OnChange: true, CreatedAt: at, UpdatedAt: at}}
	}
	comment := func(id int64, author string, at time.Time) *patchgate.Event { return claimed(id, author, author, at) }
	tests := []struct {
		name        string
		forgeHead   string
		ev          *patchgate.Event
		wantOutcome patchgate.DeliveryOutcome
		wantAnswer  string
	}{
		{"not a maintainer", known, comment(1, "mallory", time.Now()), patchgate.OutcomeIgnored, "mallory is not a maintainer"},
		{"a comment the forge does not have", known, claimed(4, "maintainer", "", time.Now()), patchgate.OutcomeIgnored, "the forge has no comment 4 on #5"},
		{"the forge has it by someone else", known, claimed(5, "maintainer", "mallory", time.Now()), patchgate.OutcomeIgnored,
			"the forge says comment 5 was written by mallory, not maintainer"},
		{"the forge reports a head patchgate has not seen", pushed, comment(2, "maintainer", time.Now()), patchgate.OutcomeProcessed,
			"ok-to-test by maintainer vouches for ddddddd, the head github reports for acme/payments#5; patchgate knows ccccccc, which it does not run"},
		{"maintainer", known, comment(3, "maintainer", time.Now()), patchgate.OutcomeProcessed, "verifying ccccccc: ok-to-test by maintainer"},
		{"the same comment again", known, comment(3, "maintainer", time.Now()), patchgate.OutcomeIgnored, "ignored: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forgeHead(tt.forgeHead)
			outcome, reason, err := h.ApplyComment(ctx, repo, tt.ev)
			if err != nil || outcome != tt.wantOutcome {
				t.Fatalf("got %s, %q, %v; want %s", outcome, reason, err, tt.wantOutcome)
			}
			var comments []fakeforge.Comment
			for _, c := range forge.Comments(repoName, 5) {
				if c.Author == fakeforge.BotLogin {
					comments = append(comments, c)
				}
			}
			if len(comments) != 1 || !strings.Contains(comments[0].Body, commands.CommandCommentMarker) || !strings.Contains(comments[0].Body, tt.wantAnswer) {
				t.Fatalf("got comments %+v, want the one command comment saying %q", comments, tt.wantAnswer)
			}
		})
	}
	if len(verifier.triggers) != 1 || verifier.triggers[0] != "ccccccc ok-to-test by maintainer" {
		t.Fatalf("got verifications %v, want one, for the maintainer's comment", verifier.triggers)
	}
	for head, want := range map[string]bool{known: true, pushed: true, strings.Repeat("e", 40): false} {
		if got, err := cmds.VouchedFor(ctx, patchgate.GitHub, repoName, head); err != nil || got != want {
			t.Fatalf("vouched for %s: got %v, %v; want %v", head[:7], got, err, want)
		}
	}
}
