package patchgate

import (
	"strings"
	"testing"
	"time"
)

func TestDecideDeployment(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	promoted := DeployCandidate{ID: 1, Name: "v1", State: CandidatePromoted}
	open := DeployCandidate{ID: 2, Name: "v2", State: CandidateOpen}
	ready := DeployCandidate{ID: 3, Name: "v3", State: CandidateOpen, Releasable: true, Approved: true}
	blocked := DeployCandidate{ID: 4, Name: "v4", State: CandidateOpen, Blockers: []Blocker{NewBlocker(ReasonSuiteFailed, "PAY-7: fix in #42 failed `regression`")}}
	promoting := DeployCandidate{ID: 5, Name: "v5", State: CandidatePromoting}
	superseded := DeployCandidate{ID: 6, Name: "v6", State: CandidateSuperseded}
	tests := []struct {
		name     string
		requires DeployRequirement
		atSHA    []DeployCandidate
		waited   time.Duration
		verdict  DeployVerdict
		reason   DeployReason
		id       int64
		says     string
	}{
		{"no candidate at the commit", "", nil, 0, DeployReject, DeploySHANotPromoted, 0, "not the commit of a release"},
		{"a promoted candidate", "", []DeployCandidate{superseded, promoted}, 0, DeployApprove, DeployOKPromoted, 1, "release v1"},
		{"promoted wins over a later open one", "", []DeployCandidate{open, promoted}, 0, DeployApprove, DeployOKPromoted, 1, ""},
		{"an open candidate waits", "", []DeployCandidate{open}, time.Hour, DeployWait, DeployAwaitingPromotion, 2, "needs its approvals"},
		{"an open candidate waits with its blockers", "", []DeployCandidate{blocked}, 0, DeployWait, DeployAwaitingPromotion, 4, "failed `regression` (suite_failed)"},
		{"approved is not promoted unless the repository says so", "", []DeployCandidate{ready}, 0, DeployWait, DeployAwaitingPromotion, 3, ""},
		{"approved and releasable is promoted by the deployment", DeployRequiresApproved, []DeployCandidate{ready}, 0, DeployPromote, DeployOKPromotedByDeploy, 3, ""},
		{"approved mode still waits for an unapproved one", DeployRequiresApproved, []DeployCandidate{open}, 0, DeployWait, DeployAwaitingPromotion, 2, ""},
		{"a promotion in flight waits, whatever else is open", "", []DeployCandidate{open, promoting}, 0, DeployWait, DeployAwaitingPromotion, 5, ""},
		{"30 days of waiting is a rejection", "", []DeployCandidate{open}, DeployReviewTimeout, DeployReject, DeployReviewExpired, 2, "within 30 days"},
		{"only superseded candidates", "", []DeployCandidate{superseded}, 0, DeployReject, DeployCandidateSuperseded, 0, "superseded"},
	}
	refusals := map[ReasonCode]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideDeployment(tt.requires, "acme/app", sha, tt.atSHA, tt.waited)
			if d.Verdict != tt.verdict || d.Reason != tt.reason || d.Candidate != tt.id {
				t.Fatalf("got %s %s candidate %d, want %s %s candidate %d", d.Verdict, d.Reason, d.Candidate, tt.verdict, tt.reason, tt.id)
			}
			if !strings.Contains(d.Message, tt.says) {
				t.Fatalf("message %q, want it to say %q", d.Message, tt.says)
			}
			if d.Verdict == DeployReject && d.Action == "" {
				t.Fatalf("a rejection without a next step: %+v", d)
			}
			// A deployment refused or kept waiting says why by a registered
			// code, with that code's next step.
			if d.Verdict == DeployReject || d.Verdict == DeployWait {
				r, ok := ReasonFor(ReasonCode(d.Reason))
				if !ok || d.Action != r.Action {
					t.Fatalf("%s: code %s registered %v, action %q; want registered, with its action %q", d.Verdict, d.Reason, ok, d.Action, r.Action)
				}
				refusals[r.Code] = true
			}
		})
	}
	// Every registered deploy code is a decision's: TestEveryReasonCodeRenders
	// leaves them to this test.
	for _, r := range Reasons {
		if strings.HasPrefix(string(r.Code), "deploy_") && !refusals[r.Code] {
			t.Errorf("registered code %s: no decision above gives it", r.Code)
		}
	}
}

func TestRenderDeployDecision(t *testing.T) {
	d := DeployDecision{Reason: DeploySHANotPromoted, Message: "abc1234 is not released", Action: "promote it"}
	if got, want := RenderDeployDecision(d, "https://pg/ui/"), "[deploy_sha_not_promoted] abc1234 is not released. Next: promote it. https://pg/ui/"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	d.Message = strings.Repeat("blocker; ", 300)
	got := RenderDeployDecision(d, "https://pg/ui/releases/1")
	if len(got) > 1024 || !strings.HasSuffix(got, "Next: promote it. https://pg/ui/releases/1") || !strings.HasPrefix(got, "[deploy_sha_not_promoted]") {
		t.Fatalf("long comment: got %d characters %q…, want ≤1024 keeping the code, the step and the link", len(got), got[:60])
	}
}

func TestDeployRequirementValidate(t *testing.T) {
	for _, r := range []DeployRequirement{"", DeployRequiresPromoted, DeployRequiresApproved} {
		if err := r.Validate(); err != nil {
			t.Errorf("%q: got %v, want valid", r, err)
		}
	}
	if err := DeployRequirement("merged").Validate(); ErrorCode(err) != EINVALID {
		t.Errorf("merged: got %v, want EINVALID", err)
	}
}

func TestStatusCheckAnswer(t *testing.T) {
	tests := []struct {
		head   RunState
		status StatusCheckStatus
		final  bool
	}{
		{"", StatusCheckPending, false},
		{RunQueued, StatusCheckPending, false},
		{RunRunning, StatusCheckPending, false},
		{RunCanceled, StatusCheckPending, false},
		{RunSuccess, StatusCheckPassed, true},
		{RunFailure, StatusCheckFailed, true},
		{RunError, StatusCheckFailed, true},
	}
	for _, tt := range tests {
		if status, final := StatusCheckAnswer(tt.head); status != tt.status || final != tt.final {
			t.Errorf("%q: got %s %v, want %s %v", tt.head, status, final, tt.status, tt.final)
		}
	}
	if StatusCheckPendingLimit >= StatusCheckGitLabTimeout {
		t.Errorf("patchgate must answer failed (%s) before GitLab fails the check (%s)", StatusCheckPendingLimit, StatusCheckGitLabTimeout)
	}
}
