package gate_test

import (
	"context"
	"fmt"
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
	"github.com/patchgate/patchgate/usecase/gate"
)

// TestEveryoneWhoWroteTheChangeIsAnAuthor: PR #7 is Codertocat's, but alice
// wrote a commit of it, dave pushed its branch and carol is its co-author by
// trailer; none may approve. bob, who only pressed "merge", may. The author
// rule alone: real SQLite for the push dave made, the real GitHub client on
// the fake forge for the commits.
func TestEveryoneWhoWroteTheChangeIsAnAuthor(t *testing.T) {
	ctx := context.Background()
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	hex := func(s string) string { return fmt.Sprintf("%040x", s) }
	base, own, pushed, merge := hex("base"), hex("own"), hex("pushed"), hex("merge")
	forge.AddCommit(relRepo, base, map[string][]byte{".patchgate.yml": []byte(releaseConfig)}, "config", "dev")
	forge.AddCommit(relRepo, own, map[string][]byte{"fix.txt": []byte("fixed")}, "fix\n\nCo-authored-by: carol <carol@users.noreply.github.com>", "Codertocat", base)
	forge.AddCommit(relRepo, pushed, map[string][]byte{"fix.txt": []byte("fixed better")}, "tidy", "alice", own)
	forge.AddCommit(relRepo, merge, map[string][]byte{"fix.txt": []byte("fixed better")}, "Merge #7", "bob", base, pushed)
	forge.SetBranch(relRepo, "main", merge)
	forge.AddPullRequest(relRepo, fakeforge.PullRequest{Number: 7, Title: "PAY-7: fix", Author: "Codertocat", HeadSHA: pushed})
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	changes := store.NewChangeService(db)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	pr, _, err := changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: 7, Title: "PAY-7: fix",
		SourceBranch: "fix/PAY-7", TargetBranch: "main", HeadSHA: pushed, BaseSHA: base, Author: "Codertocat",
		State: patchgate.ChangeMerged, MergeCommitSHA: merge, UpdatedAt: t0.Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	// dave pushed the branch.
	if _, _, err := changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePush, SourceBranch: "fix/PAY-7", TargetBranch: "fix/PAY-7",
		HeadSHA: pushed, Author: "dave", State: patchgate.ChangeOpen, UpdatedAt: t0.Add(2 * time.Minute),
	}); err != nil {
		t.Fatal(err)
	}
	rule := &gate.AuthorRule{Authors: map[patchgate.Forge]patchgate.AuthorFinder{patchgate.GitHub: gh},
		Comparers: map[patchgate.Forge]patchgate.Comparer{patchgate.GitHub: gh}, Branches: changes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// The first release, at the merge: it holds #7.
	c := &patchgate.Candidate{ID: 1, Forge: patchgate.GitHub, Repo: relRepo, Branch: "main", SHA: merge, Name: "v1.0.0",
		Items: []*patchgate.CandidateItem{{ChangeID: pr.ID, Change: pr}}}
	for _, who := range []string{"alice", "carol", "dave", "codertocat"} {
		if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: who}); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN || !strings.Contains(err.Error(), "an author may not approve") {
			t.Errorf("%s approves a change they wrote part of: got %v, want forbidden: an author may not approve", who, err)
		}
	}
	if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: "bob"}); err != nil {
		t.Errorf("bob, who only merged, approves: got %v, want allowed", err)
	}
}

// TestMergeThatResolvesAConflictMakesTheMergerAnAuthor: bob merged #7 into a
// main that had moved on, resolving the conflict on fix.txt by writing a
// third version: that is writing, so bob may not approve. carol merged #8,
// which touched a file nobody else did: merging only, so she may. dev wrote
// a direct commit on main: an author too.
func TestMergeThatResolvesAConflictMakesTheMergerAnAuthor(t *testing.T) {
	ctx := context.Background()
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	hex := func(s string) string { return fmt.Sprintf("%040x", s) }
	base, direct, own, resolved, other, clean := hex("base"), hex("direct"), hex("own"), hex("resolved"), hex("other"), hex("clean")
	forge.AddCommit(relRepo, base, map[string][]byte{".patchgate.yml": []byte(releaseConfig), "fix.txt": []byte("v0\n")}, "config", "ops")
	forge.AddCommit(relRepo, direct, map[string][]byte{"fix.txt": []byte("main's\n")}, "hotfix on main", "dev", base)
	forge.AddCommit(relRepo, own, map[string][]byte{"fix.txt": []byte("fixed\n")}, "fix", "Codertocat", base)
	forge.AddCommit(relRepo, resolved, map[string][]byte{"fix.txt": []byte("main's, fixed\n")}, "Merge #7", "bob", direct, own)
	forge.AddCommit(relRepo, other, map[string][]byte{"other.txt": []byte("other\n")}, "other fix", "Codertocat", base)
	forge.AddCommit(relRepo, clean, map[string][]byte{"other.txt": []byte("other\n")}, "Merge #8", "carol", resolved, other)
	// erin's commit has three parents: it could hold any tree. frank merged
	// 300 new files cleanly, but GitHub lists only 300 files of a compare, so
	// what the merge holds past them is unknown. Both count as written.
	third, octopus := hex("third"), hex("octopus")
	forge.AddCommit(relRepo, third, map[string][]byte{"third.txt": []byte("third\n")}, "third fix", "Codertocat", base)
	forge.AddCommit(relRepo, octopus, map[string][]byte{"third.txt": []byte("third\n"), "sneaky.txt": []byte("erin's\n")}, "Merge #9 and #10", "erin", clean, third, other)
	many := map[string][]byte{}
	for i := range 301 {
		many[fmt.Sprintf("gen/f%03d.txt", i)] = []byte("generated\n")
	}
	bulk, big := hex("bulk"), hex("big")
	forge.AddCommit(relRepo, bulk, many, "generate", "Codertocat", base)
	forge.AddCommit(relRepo, big, many, "Merge #11", "frank", octopus, bulk)
	forge.SetBranch(relRepo, "main", big)
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rule := &gate.AuthorRule{Comparers: map[patchgate.Forge]patchgate.Comparer{patchgate.GitHub: gh},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &patchgate.Candidate{ID: 2, Forge: patchgate.GitHub, Repo: relRepo, Branch: "main", BaseSHA: base, SHA: big, Name: "v1.1.0"}
	for _, who := range []string{"bob", "dev", "codertocat", "erin", "frank"} {
		if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: who}); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
			t.Errorf("%s approves a release whose commits they wrote: got %v, want forbidden", who, err)
		}
	}
	if err := rule.CheckNotAuthor(ctx, c, patchgate.ForgeUser{Login: "carol"}); err != nil {
		t.Errorf("carol, whose merge only merged, approves: got %v, want allowed", err)
	}
}
