package verification_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestVerifyHead: verification alone on SQLite with the fake forge. A trusted
// head is recorded, enqueued and reported queued; a fork's head waits for a
// maintainer's ok-to-test, recorded nowhere; a new head supersedes the old
// head's verification and cancels its job.
func TestVerifyHead(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		author     string
		fork       bool
		wantQueued bool
		wantReason string
	}{
		{name: "trusted author", author: "alice", wantQueued: true},
		{name: "fork", author: "alice", fork: true, wantReason: "waiting for a maintainer to comment /patchgate ok-to-test"},
		{name: "untrusted author", author: "mallory", wantReason: "waiting for a maintainer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: relRepo, TrustedUsers: []string{"alice"}})
			ch := w.change(t, 7, "PAY-1: fix", tt.author, sha('a'), tt.fork)
			if err := w.verifier.VerifyHead(ctx, ch, "opened"); err != nil {
				t.Fatal(err)
			}
			vs, _, err := w.vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &ch.HeadSHA})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(vs) == 1 && len(w.queue.enqueued) == 1 && len(w.reporter.queued) == 1; got != tt.wantQueued {
				t.Fatalf("got %d verifications, %d enqueued, %d reported queued; want queued %v", len(vs), len(w.queue.enqueued), len(w.reporter.queued), tt.wantQueued)
			}
			if tt.wantReason != "" && (len(w.reporter.verdicts) != 1 || !strings.Contains(w.reporter.verdicts[0].Reason, tt.wantReason)) {
				t.Fatalf("got reports %v, want one saying %q", w.reporter.verdicts, tt.wantReason)
			}
		})
	}

	t.Run("new head supersedes", func(t *testing.T) {
		w := newWorld(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: relRepo})
		ch := w.change(t, 7, "PAY-1: fix", "alice", sha('a'), false)
		if err := w.verifier.VerifyHead(ctx, ch, "opened"); err != nil {
			t.Fatal(err)
		}
		old := w.queue.enqueued[0]
		ch = w.change(t, 7, "PAY-1: fix", "alice", sha('b'), false)
		if err := w.verifier.VerifyHead(ctx, ch, "synchronize"); err != nil {
			t.Fatal(err)
		}
		if len(w.queue.cancelled) != 1 || w.queue.cancelled[0] != old {
			t.Fatalf("got cancelled %v, want [%d]", w.queue.cancelled, old)
		}
		v, err := w.vs.FindVerificationByID(ctx, old)
		if err != nil || !v.Stale || v.State != patchgate.RunCanceled {
			t.Fatalf("old head's verification: got %+v, %v; want stale and canceled", v, err)
		}
	})
}

// TestRerunOfAnUntrustedHead: re-running a fork's head is a maintainer's
// decision: refused for anyone else, allowed for a maintainer.
func TestRerunOfAnUntrustedHead(t *testing.T) {
	w := newWorld(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: relRepo})
	ch := w.change(t, 7, "PAY-1: fix", "stranger", sha('a'), true)
	as := func(login string) context.Context {
		return patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: login, Role: patchgate.RoleDeveloper,
			Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: login}}})
	}
	req := patchgate.VerifyRequest{Repo: relRepo, SHA: ch.HeadSHA}
	if _, err := w.verifier.Rerun(as("dev"), req); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Fatalf("re-run by a developer: got %v, want EFORBIDDEN", err)
	}
	v, err := w.verifier.Rerun(as("ops"), req)
	if err != nil || v.SHA != ch.HeadSHA || v.ConfigRef != w.base {
		t.Fatalf("re-run by a release manager: got %+v, %v; want a verification of the head configured at the base", v, err)
	}
}
