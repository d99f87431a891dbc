package linking_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestPushLinksCommitMessages: the commit messages of a push link their
// tickets to the branch and to the open pull request from that branch.
func TestPushLinksCommitMessages(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if err := w.linker.ApplyChange(ctx, w.repo, pr(3, "opened", "fix rounding", strings.Repeat("a", 40))); err != nil {
		t.Fatal(err)
	}
	head := strings.Repeat("c", 40)
	push := &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventPush, Repo: repoName, Sender: "dev",
		Push: &patchgate.PushEvent{Ref: "refs/heads/topic", Branch: "topic", Before: strings.Repeat("a", 40), After: head, Pusher: "dev",
			Commits: []patchgate.Commit{{SHA: head, Message: "Round refunds half-even\n\nFixes PAY-12", Author: "dev"}}}}
	if err := w.linker.ApplyPush(ctx, w.repo, push); err != nil {
		t.Fatal(err)
	}
	tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-12")
	if err != nil {
		t.Fatal(err)
	}
	links, err := w.links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &tk.ID})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[patchgate.ChangeKind]bool{}
	for _, l := range links {
		if l.Source != patchgate.SourceCommitMessage || l.Kind != patchgate.LinkFixes || !patchgate.ValidSHA(l.CommitSHA) {
			t.Errorf("got link %+v, want a fixes link from a commit message", l)
		}
		if l.Change == nil {
			t.Fatalf("got link %+v without its change", l)
		}
		sources[l.Change.Kind] = true
	}
	if !sources[patchgate.ChangePush] || !sources[patchgate.ChangePullRequest] {
		t.Fatalf("got links on %v, want the branch and the pull request", sources)
	}
}
