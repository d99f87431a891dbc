package gate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestApprovalsCountPeopleNotTokens: one person holding two release-manager
// tokens is one approval; a token that names nobody cannot approve or
// promote; the author rule compares people, whatever the token is called.
func TestApprovalsCountPeopleNotTokens(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.AddCommit(relRepo, w.cand, map[string][]byte{".patchgate.yml": []byte(strings.Replace(releaseConfig, "approvals: 1", "approvals: 2", 1))}, "two", "ops", w.merge)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	c := w.candidate()
	token := func(name string, users ...patchgate.ForgeUser) patchgate.Principal {
		return patchgate.Principal{Name: name, Token: name, Role: patchgate.RoleReleaseManager, Users: users}
	}
	// Each token pins its user's id, as token create does; logins are
	// compared without regard to case, so "Alice" is alice's account.
	gh := func(login string) patchgate.ForgeUser {
		return patchgate.ForgeUser{Forge: patchgate.GitHub, Login: login, UserID: w.forge.AddUser(strings.ToLower(login))}
	}
	laptop := token("alice-laptop", gh("alice"))
	ci := token("alice-ci", gh("Alice"), patchgate.ForgeUser{Forge: patchgate.GitLab, Login: "alice.b", UserID: 7})
	nobody := token("ops-bot")
	author := token("the-author", gh("dev"))
	bob := token("bob", gh("bob"))

	if _, _, err := w.gate.Approve(ctx, c.ID, "", laptop, "api"); err != nil {
		t.Fatalf("alice-laptop approves: %v", err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", ci, "api"); patchgate.ErrorCode(err) != patchgate.ECONFLICT || !strings.Contains(err.Error(), fmt.Sprintf("alice (id %d) already approved", w.forge.AddUser("alice"))) {
		t.Fatalf("alice-ci approves too: got %v, want conflict: alice already approved", err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", nobody, "api"); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN || !strings.Contains(err.Error(), "--user github:") {
		t.Fatalf("approval by a token naming nobody: got %v, want forbidden naming --user", err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, laptop); patchgate.ErrorCode(err) != patchgate.ECONFLICT || !strings.Contains(err.Error(), "1 of the 2") {
		t.Fatalf("alice promotes alone: got %v, want conflict with 1 of the 2 approvals", err)
	}
	// dev wrote #1: the person, whatever the token is called.
	if _, _, err := w.gate.Approve(ctx, c.ID, "", author, "api"); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN || !strings.Contains(err.Error(), "an author may not approve") {
		t.Fatalf("approval by the author's token: got %v, want forbidden", err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", bob, "api"); err != nil {
		t.Fatalf("bob approves: %v", err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, nobody); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN || !strings.Contains(err.Error(), "--user") {
		t.Fatalf("promotion by a token naming nobody: got %v, want forbidden naming --user", err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, bob); err != nil {
		t.Fatalf("bob promotes after two people approved: %v", err)
	}

	action := patchgate.AuditApprovalCreated
	entries, err := store.NewAuditService(w.db).FindAudit(ctx, patchgate.AuditFilter{Action: &action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var approvals []map[string]string
	for _, e := range entries {
		approvals = append(approvals, e.Detail)
	}
	if len(approvals) == 2 && approvals[0]["token"] == "bob" {
		approvals[0], approvals[1] = approvals[1], approvals[0]
	}
	if len(approvals) != 2 || approvals[0]["token"] != "alice-laptop" || approvals[0]["person"] != "github:alice" ||
		approvals[1]["token"] != "bob" || approvals[1]["person"] != "github:bob" {
		t.Fatalf("got approval audit details %v, want alice through alice-laptop and bob through bob", approvals)
	}
}

// TestUnpinnedTokenCannotApprove: a person is trusted by forge user id only.
// A token whose user carries no id (created before patchgate pinned people)
// names a login, which whoever registers it after a release would inherit:
// its approval is refused, by Approve and by CanApprove alike, naming the
// token, the login and how to make a pinned token. The same person through a
// pinned token approves.
func TestUnpinnedTokenCannotApprove(t *testing.T) {
	ctx := context.Background()
	w, c := newReleasableWorld(t)
	unpinned := patchgate.Principal{Name: "alice-old", Token: "alice-old", Role: patchgate.RoleReleaseManager,
		Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice"}}}
	want := []string{`token "alice-old"`, "github:alice", "no forge user id", "patchgate token create", "--user github:alice", "revoke"}
	check := func(what string, err error) {
		t.Helper()
		if patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
			t.Fatalf("%s by an unpinned token: got %v, want forbidden", what, err)
		}
		for _, s := range want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s by an unpinned token: %q does not say %q", what, err.Error(), s)
			}
		}
	}
	_, _, err := w.gate.Approve(ctx, c.ID, "", unpinned, "api")
	check("Approve", err)
	full, err := w.releases.FindCandidateByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Approvals) != 0 {
		t.Fatalf("got approvals %+v after the refusal, want none", full.Approvals)
	}
	ev, err := w.gate.Evaluate(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	check("CanApprove", w.gate.CanApprove(ctx, full, ev, unpinned))
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatalf("alice through a pinned token: %v", err)
	}
}
