package gate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestCanApproveAgreesWithApprove: the answer the dashboard shows buttons by
// is the one Approve gives, for each kind of principal.
func TestCanApproveAgreesWithApprove(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	c := w.candidate()
	load := func() (*patchgate.Candidate, *patchgate.Evaluation) {
		t.Helper()
		full, err := w.releases.FindCandidateByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := w.gate.Evaluate(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		return full, ev
	}
	manager := w.person
	as := func(login string, role patchgate.Role) patchgate.Principal {
		p := w.person(login)
		p.Role = role
		return p
	}

	full, ev := load()
	if err := w.gate.CanApprove(ctx, full, ev, manager("alice")); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Errorf("blocked candidate: got %v, want conflict", err)
	}
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	full, ev = load()
	for _, tc := range []struct {
		name string
		p    patchgate.Principal
		want string
	}{
		{"release manager", manager("alice"), ""},
		{"admin", as("root", patchgate.RoleAdmin), ""},
		{"viewer", as("alice", patchgate.RoleViewer), patchgate.EFORBIDDEN},
		{"developer", as("alice", patchgate.RoleDeveloper), patchgate.EFORBIDDEN},
		{"author of an included change", manager("DEV"), patchgate.EFORBIDDEN},
		{"a token that names no person", patchgate.Principal{Name: "ci", Token: "ci", Role: patchgate.RoleReleaseManager}, patchgate.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := patchgate.ErrorCode(w.gate.CanApprove(ctx, full, ev, tc.p)); got != tc.want {
				t.Errorf("CanApprove: got %q, want %q", got, tc.want)
			}
		})
	}
	if err := w.gate.CanPromote(full, ev, manager("alice")); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Errorf("CanPromote without approvals: got %v, want conflict", err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", manager("DEV"), "api"); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Errorf("Approve by the author: got %v, want forbidden, as CanApprove said", err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", manager("alice"), "dashboard"); err != nil {
		t.Fatalf("Approve by alice: %v", err)
	}
	full, ev = load()
	if err := w.gate.CanApprove(ctx, full, ev, manager("alice")); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Errorf("CanApprove after approving: got %v, want conflict", err)
	}
	if err := w.gate.CanWithdraw(full, manager("alice")); err != nil {
		t.Errorf("CanWithdraw by the approver: %v", err)
	}
	if err := w.gate.CanWithdraw(full, manager("bob")); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("CanWithdraw by another: got %v, want not found", err)
	}
	if err := w.gate.CanPromote(full, ev, manager("bob")); err != nil {
		t.Errorf("CanPromote once approved: %v", err)
	}
	if err := w.gate.CanPromote(full, ev, as("v", patchgate.RoleViewer)); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Errorf("CanPromote by a viewer: got %v, want forbidden", err)
	}
}

// TestClosedCandidateRefusalsAreCoded: approving, withdrawing or promoting a
// superseded or promoted candidate is refused with the code of its state
// (superseded, already_promoted) and that code's next action, as the
// candidate's own summary says it, for the dashboard, the API and comments.
func TestClosedCandidateRefusalsAreCoded(t *testing.T) {
	ctx := context.Background()
	w, old := newReleasableWorld(t)
	newer, err := w.cands.CreateCandidate(ctx, patchgate.CandidateRequest{Repo: relRepo, SHA: w.cand, Name: "v1.1.1"}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.gate.Approve(ctx, newer.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.gate.Promote(ctx, newer.ID, w.person("alice")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   int64
		code patchgate.ReasonCode
	}{{old.ID, patchgate.ReasonSuperseded}, {newer.ID, patchgate.ReasonAlreadyPromoted}} {
		c, err := w.releases.FindCandidateByID(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		reason, _ := patchgate.ReasonFor(tc.code)
		ev := &patchgate.Evaluation{Releasable: true, Needed: 1, Approvals: 1, Policy: &patchgate.EffectivePolicy{}}
		_, _, approveErr := w.gate.Approve(ctx, c.ID, "", w.person("bob"), "api")
		for name, err := range map[string]error{
			"CanApprove":  w.gate.CanApprove(ctx, c, ev, w.person("bob")),
			"CanWithdraw": w.gate.CanWithdraw(c, w.person("alice")),
			"CanPromote":  w.gate.CanPromote(c, ev, w.person("bob")),
			"Approve":     approveErr,
		} {
			bs := patchgate.ErrorBlockers(err)
			if patchgate.ErrorCode(err) != patchgate.ECONFLICT || len(bs) != 1 || bs[0].Code != tc.code || bs[0].Action != reason.Action ||
				!strings.Contains(err.Error(), "candidate "+c.Name) {
				t.Errorf("%s of %s candidate %s: got %v (blockers %+v), want a conflict naming it, coded %s", name, c.State, c.Name, err, bs, tc.code)
			}
		}
	}
}
