package patchgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestCommentVouches(t *testing.T) {
	at := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	claim := &patchgate.CommentEvent{ID: 42, Number: 7, Author: "alice", Body: "LGTM\r\n/patchgate approve", CreatedAt: at}
	same := func(edit func(*patchgate.ForgeComment)) *patchgate.ForgeComment {
		c := &patchgate.ForgeComment{ID: 42, Number: 7, AuthorID: 11, Author: "Alice", Body: "LGTM\n/patchgate approve", CreatedAt: at.Add(300 * time.Millisecond)}
		if edit != nil {
			edit(c)
		}
		return c
	}
	for _, tt := range []struct {
		name string
		read *patchgate.ForgeComment
		want string // "" when the forge vouches; else a part of the reason
	}{
		{"the forge has it as claimed", same(nil), ""},
		{"the forge has no such comment", nil, "the forge has no comment 42 on #7"},
		{"another comment answered", same(func(c *patchgate.ForgeComment) { c.ID = 43 }), "answered comment 43"},
		{"on another change", same(func(c *patchgate.ForgeComment) { c.Number = 8 }), "is on #8, not #7"},
		{"by someone else", same(func(c *patchgate.ForgeComment) { c.Author = "mallory" }), "written by mallory, not alice"},
		{"author unnamed", same(func(c *patchgate.ForgeComment) { c.Author = "" }), "written by nobody named, not alice"},
		{"another text", same(func(c *patchgate.ForgeComment) { c.Body = "/patchgate approve" }), "is not the text"},
		{"written at another time", same(func(c *patchgate.ForgeComment) { c.CreatedAt = at.Add(-time.Hour) }), "was written at 2026-12-07T19:00:00Z"},
		{"edited after it was written", same(func(c *patchgate.ForgeComment) { c.UpdatedAt = at.Add(time.Hour) }), "was edited at 2026-12-07T21:00:00Z"},
		{"updated within the second it was written", same(func(c *patchgate.ForgeComment) { c.UpdatedAt = c.CreatedAt.Add(500 * time.Millisecond) }), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := patchgate.CommentVouches(claim, tt.read)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMayRetest(t *testing.T) {
	everyone := &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments"}
	listed := &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments", TrustedUsers: []string{"alice"}}
	own := &patchgate.Change{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: 6}
	fork := &patchgate.Change{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: 8, FromFork: true}
	for _, tt := range []struct {
		name        string
		repo        *patchgate.Repository
		ch          *patchgate.Change
		commenterID int64
		maintainer  bool
		want        string // "" when allowed; else a part of the refusal
	}{
		{"a maintainer, a fork's change", everyone, fork, 2, true, ""},
		{"the author, their own change", everyone, own, 7, false, ""},
		{"someone else", everyone, own, 3, false, "neither a maintainer of acme/payments nor the author of acme/payments#6"},
		{"an unknown commenter id", everyone, own, 0, false, "neither a maintainer"},
		{"the author of a fork's change", everyone, fork, 7, false, "comes from a fork"},
		{"the author where trust is listed", listed, own, 7, false, "not a trusted user of acme/payments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := patchgate.MayRetest(tt.repo, tt.ch, "someone", tt.commenterID, 7, tt.maintainer)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCommandTargetNamesTheCommand(t *testing.T) {
	at := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	old := &patchgate.Candidate{ID: 1, Name: "v1.5.0", State: patchgate.CandidateSuperseded, CreatedAt: at.Add(-time.Hour)}
	open := &patchgate.Candidate{ID: 2, Name: "v1.6.0", State: patchgate.CandidateOpen, CreatedAt: at}
	for _, tt := range []struct {
		name    string
		written time.Time
		want    string
		target  *patchgate.Candidate
	}{
		{"written for the open one", at.Add(time.Minute), "", open},
		{"written for a superseded one", at.Add(-time.Minute), "v1.5.0, which a newer candidate superseded: comment /patchgate withdraw again to withdraw v1.6.0", nil},
		{"written before any", at.Add(-2 * time.Hour), "before v1.6.0 was proposed at 2026-12-07T20:00:00Z: comment /patchgate withdraw again to withdraw it", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := patchgate.CommandTarget([]*patchgate.Candidate{old, open}, tt.written, patchgate.WithdrawComment)
			if got != tt.target || !strings.Contains(reason, tt.want) || (tt.want == "") != (reason == "") {
				t.Fatalf("got %v %q, want %v %q", got, reason, tt.target, tt.want)
			}
		})
	}
}

func TestStaleVouch(t *testing.T) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		written time.Time
		want    string
	}{
		{"just written", now.Add(-2 * time.Second), ""},
		{"at the bound", now.Add(-patchgate.MaxVouchAge), ""},
		{"a forge clock a little ahead", now.Add(time.Minute), ""},
		{"read after an outage", now.Add(-50 * time.Minute), "2026-12-07T19:10:00Z, 50m0s before patchgate read it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := patchgate.StaleVouch(patchgate.OkToTestComment, tt.written, now)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
