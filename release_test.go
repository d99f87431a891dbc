package patchgate_test

import (
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
		{"through a token naming a person", patchgate.Approval{SHA: sha, Approver: "alice", Token: "alice-laptop", Via: "api"}, true},
		{"by comment", patchgate.Approval{SHA: sha, Approver: "alice", Via: "comment"}, true},
		{"stored before approvals named persons", patchgate.Approval{SHA: sha, Approver: "ops-bot", Via: "api"}, false},
		{"stored before, from the CLI", patchgate.Approval{SHA: sha, Approver: "ops-bot", Via: "cli"}, false},
		{"withdrawn", patchgate.Approval{SHA: sha, Approver: "alice", Via: "comment", WithdrawnAt: &withdrawn}, false},
		{"at another SHA", patchgate.Approval{SHA: "1111111111111111111111111111111111111111", Approver: "alice", Via: "comment"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Counts(sha); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
