package patchgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestApprovalCounts(t *testing.T) {
	sha := "68e1c08c46a65c5bc3ebca755b2788e0488ebcae"
	withdrawn := time.Now()
	for _, tt := range []struct {
		name string
		a    patchgate.Approval
		want bool
	}{
		{"through a token naming a person", patchgate.Approval{SHA: sha, Approver: "alice", ApproverID: 1, Token: "alice-laptop", Via: "api"}, true},
		{"by comment", patchgate.Approval{SHA: sha, Approver: "alice", ApproverID: 1, Via: "comment"}, true},
		{"through a token, stored before ids were pinned", patchgate.Approval{SHA: sha, Approver: "alice", Token: "alice-laptop", Via: "api"}, false},
		{"by comment, stored before ids were pinned", patchgate.Approval{SHA: sha, Approver: "alice", Via: "comment"}, false},
		{"stored before approvals named persons", patchgate.Approval{SHA: sha, Approver: "ops-bot", Via: "api"}, false},
		{"stored before, from the CLI", patchgate.Approval{SHA: sha, Approver: "ops-bot", Via: "cli"}, false},
		{"withdrawn", patchgate.Approval{SHA: sha, Approver: "alice", ApproverID: 1, Via: "comment", WithdrawnAt: &withdrawn}, false},
		{"at another SHA", patchgate.Approval{SHA: "1111111111111111111111111111111111111111", Approver: "alice", ApproverID: 1, Via: "comment"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Counts(sha); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCommentTarget(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	old := &patchgate.Candidate{Name: "v1.0.1", State: patchgate.CandidateSuperseded, CreatedAt: t0.Add(500 * time.Millisecond)}
	cur := &patchgate.Candidate{Name: "v1.0.2", State: patchgate.CandidateOpen, CreatedAt: t0.Add(time.Hour)}
	shipped := &patchgate.Candidate{Name: "v1.0.0", State: patchgate.CandidatePromoted, CreatedAt: t0.Add(-time.Hour)}
	for _, tt := range []struct {
		name    string
		cands   []*patchgate.Candidate
		written time.Time
		want    *patchgate.Candidate
		reason  string
	}{
		{"no candidate contains the change", nil, t0, nil, ""},
		{"written for the open one", []*patchgate.Candidate{old, cur}, t0.Add(2 * time.Hour), cur, ""},
		{"written in the second the candidate was proposed", []*patchgate.Candidate{cur}, t0.Add(time.Hour), cur, ""},
		{"written for a superseded one", []*patchgate.Candidate{old, cur}, t0.Add(time.Minute), nil,
			"comment was written for v1.0.1, which a newer candidate superseded: comment /patchgate approve again to approve v1.0.2"},
		{"written before any", []*patchgate.Candidate{cur}, t0, nil, "before v1.0.2 was proposed at 2026-12-07T21:00:00Z"},
		{"written for a promoted one", []*patchgate.Candidate{shipped}, t0, nil, "comment was written for v1.0.0, which is already promoted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := patchgate.CommentTarget(tt.cands, tt.written)
			if got != tt.want || !strings.Contains(reason, tt.reason) || (tt.reason == "") != (reason == "") {
				t.Fatalf("got %v %q, want %v %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}
