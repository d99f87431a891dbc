package gate_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/usecase/gate"
)

// TestGitLabAuthorIsLookedUpBeforeApproval: a merge request hook names the
// author only by id when someone else acted, so the change has no author;
// the author rule asks the API (the real GitLab client, the fake forge) who
// wrote the MR, and refuses while it cannot know.
func TestGitLabAuthorIsLookedUpBeforeApproval(t *testing.T) {
	ctx := context.Background()
	const glRepo = "ops/payments"
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	gl, err := forges.NewGitLab(forges.Config{BaseURL: forge.GitLabAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rule := &gate.AuthorRule{Authors: map[patchgate.Forge]patchgate.AuthorFinder{patchgate.GitLab: gl},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	head := sha('b')
	mr := &patchgate.Change{ID: 1, Forge: patchgate.GitLab, Repo: glRepo, Kind: patchgate.ReviewKind(patchgate.GitLab), Number: 3,
		Title: "OPS-1: fix", HeadSHA: head, State: patchgate.ChangeMerged, MergeCommitSHA: sha('c')}
	c := &patchgate.Candidate{ID: 1, Forge: patchgate.GitLab, Repo: glRepo, Branch: "main", SHA: sha('c'), Name: "v1.1.0",
		Items: []*patchgate.CandidateItem{{ChangeID: mr.ID, Change: mr}}}

	// The forge does not know the MR (yet): the author stays unknown, and that refuses.
	if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: "alice"}); patchgate.ErrorCode(err) != patchgate.ECONFLICT ||
		!strings.Contains(err.Error(), "author of !3") || !strings.Contains(err.Error(), "not known") {
		t.Fatalf("approval while !3's author is unknown: got %v, want conflict saying the author is not known", err)
	}
	forge.AddPullRequest(glRepo, fakeforge.PullRequest{Number: 3, Title: "OPS-1: fix", Author: "alice", HeadSHA: head})
	if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: "alice"}); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN || !strings.Contains(err.Error(), "alice wrote !3") {
		t.Fatalf("approval by the author the API names: got %v, want forbidden", err)
	}
	if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: "bob"}); err != nil {
		t.Fatalf("approval by bob: got %v", err)
	}
}
