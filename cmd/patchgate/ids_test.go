package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// idApproval is an approval as the API shows it, with the approver's id.
type idApproval struct {
	Approver   string
	ApproverID int64 `json:"approver_id"`
	Token, Via string
}

// liveApprovals returns candidate id's live approvals as the API shows them.
func (w *gateWorld) liveApprovals(t *testing.T, id int64) []idApproval {
	t.Helper()
	var out struct {
		Release struct {
			Approvals []struct {
				idApproval
				WithdrawnAt *time.Time `json:"withdrawn_at"`
			}
		}
	}
	if code := w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", id), nil, &out); code != http.StatusOK {
		t.Fatalf("read release %d: got %d", id, code)
	}
	var live []idApproval
	for _, a := range out.Release.Approvals {
		if a.WithdrawnAt == nil {
			live = append(live, a.idApproval)
		}
	}
	return live
}

// TestTokenPinsItsPersonsUserID: a token's --user is pinned to the user id
// the forge gives the login when the token is created, shown by the API; a
// login the forge does not know refuses the token, saying what to check.
func TestTokenPinsItsPersonsUserID(t *testing.T) {
	app := startApp(t, nil)
	carol := app.forge.AddUser("carol")
	var out struct {
		Token struct {
			Users []struct {
				Forge, Login string
				UserID       int64 `json:"user_id"`
			}
		}
		Error struct{ Code, Message string }
	}
	if code := app.api(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "carol", "role": "release-manager", "users": []string{"github:carol"}}, &out); code != http.StatusCreated ||
		len(out.Token.Users) != 1 || out.Token.Users[0].UserID != carol {
		t.Fatalf("token for github:carol: got %d %+v, want 201 with user id %d", code, out, carol)
	}
	code := app.api(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ghost", "role": "release-manager", "users": []string{"github:ghost"}}, &out)
	if code != http.StatusBadRequest || !strings.Contains(out.Error.Message, `token "ghost" not created: github:ghost names no account`) ||
		!strings.Contains(out.Error.Message, "check the login on github") {
		t.Fatalf("token for a login the forge does not know: got %d %q, want 400 naming github:ghost and what to check", code, out.Error.Message)
	}
	var list struct{ Tokens []patchgate.Token }
	app.api(t, http.MethodGet, "/api/v1/tokens", nil, &list)
	for _, tok := range list.Tokens {
		if tok.Name == "ghost" {
			t.Fatalf("the refused token was stored: %+v", tok)
		}
	}
}

// TestOneAccountApprovesOnceUnderTwoLogins: alice approves through her token,
// renames her account, and approves again by comment and through a token
// for her new login: one person, one approval. (Failed before approvals
// were counted by user id: her comment under the new login was a third
// approval.)
func TestOneAccountApprovesOnceUnderTwoLogins(t *testing.T) {
	w := newGateWorld(t, 3, nil)
	c := w.candidate(t)
	alice := w.app.forge.AddUser("alice")
	w.app.forge.AddUser("bob")
	// bob's approval pins the release managers, alice among them.
	w.send(t, ghComment{delivery: "bob", id: 609, author: "bob", body: "/patchgate approve"})
	laptop := w.token(t, "alice-laptop", patchgate.RoleReleaseManager, "github:alice")
	approve := fmt.Sprintf("/api/v1/releases/%d/approve", c.ID)
	if code, msg := w.call(t, laptop, http.MethodPost, approve, nil); code != http.StatusOK {
		t.Fatalf("alice-laptop approves: got %d %q", code, msg)
	}
	w.app.forge.RenameUser("alice", "alice-renamed")
	w.send(t, ghComment{delivery: "renamed-alice", id: 610, author: "alice-renamed", body: "/patchgate approve"})
	if outcome, reason := w.app.delivery(t, "renamed-alice"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "already approved") {
		t.Fatalf("the renamed alice's comment: got %s %q, want ignored: already approved", outcome, reason)
	}
	desk := w.token(t, "alice-desk", patchgate.RoleReleaseManager, "github:alice-renamed")
	if code, msg := w.call(t, desk, http.MethodPost, approve, nil); code != http.StatusConflict || !strings.Contains(msg, fmt.Sprintf("alice-renamed (id %d) already approved", alice)) {
		t.Fatalf("alice's token for her new login approves: got %d %q, want 409: already approved", code, msg)
	}
	if got := w.liveApprovals(t, c.ID); len(got) != 2 || got[0].Approver != "bob" || got[1].Approver != "alice" || got[1].ApproverID != alice || got[1].Token != "alice-laptop" {
		t.Fatalf("approvals: got %+v, want bob's and alice's (id %d, through alice-laptop)", got, alice)
	}
	if code, msg := w.call(t, laptop, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/promote", c.ID), nil); code != http.StatusConflict || !strings.Contains(msg, "2 of the 3") {
		t.Fatalf("promote with two people's approvals: got %d %q, want 409: 2 of the 3", code, msg)
	}
}

// TestReleasedLoginIsSomeoneElse: alice approves by comment and renames her
// account; someone registers the login "alice". They get none of alice's
// rights (their comment approves nothing) and, given a token of their own,
// they are not alice: their approval is a second person's, shown with its
// own id. (Failed before approvals were counted by user id: "alice already
// approved".)
func TestReleasedLoginIsSomeoneElse(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	alice := w.app.forge.AddUser("alice")
	w.send(t, ghComment{delivery: "alice", id: 620, author: "alice", body: "/patchgate approve"})
	w.app.forge.RenameUser("alice", "alice-renamed")
	impostor := w.app.forge.AddUser("alice")

	w.send(t, ghComment{delivery: "new-alice", id: 621, author: "alice", body: "/patchgate approve"})
	if outcome, reason := w.app.delivery(t, "new-alice"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "alice is not a release manager") {
		t.Fatalf("the new account's comment: got %s %q, want ignored: not a release manager", outcome, reason)
	}
	newcomer := w.token(t, "new-alice", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, newcomer, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
		t.Fatalf("the new account approves through its own token: got %d %q, want 200 (another person)", code, msg)
	}
	got := w.liveApprovals(t, c.ID)
	if len(got) != 2 || got[0].ApproverID != alice || got[1].ApproverID != impostor || got[1].Token != "new-alice" {
		t.Fatalf("approvals: got %+v, want alice (id %d) by comment and the new account (id %d) through new-alice", got, alice, impostor)
	}
}

// TestAuthorUnderANewLoginCannotApprove: Codertocat opened #7, renames their
// account and gets a release manager's token for the new login: they may
// not approve, since the forge names them by the same user id. (Failed
// before the author rule compared ids: "coder-new" is not the login
// "Codertocat".) Commit authors by id are usecase/gate's
// TestCommitAuthorUnderANewLoginCannotApprove.
func TestAuthorUnderANewLoginCannotApprove(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	// The recorded deliveries name #7's opener Codertocat by the id the
	// fake forge gives that account.
	coder := w.app.forge.AddUser("Codertocat")
	c := w.candidate(t)
	w.app.forge.RenameUser("Codertocat", "coder-new")
	approve := fmt.Sprintf("/api/v1/releases/%d/approve", c.ID)
	tok := w.token(t, "coder", patchgate.RoleReleaseManager, "github:coder-new")
	want := fmt.Sprintf("coder-new (id %d) wrote #7 (as Codertocat (id %d))", coder, coder)
	if code, msg := w.call(t, tok, http.MethodPost, approve, nil); code != http.StatusForbidden ||
		!strings.Contains(msg, want) || !strings.Contains(msg, "an author may not approve") {
		t.Fatalf("the opener approves under a new login: got %d %q, want 403 saying %q and that an author may not approve", code, msg, want)
	}
	// The API lists the candidate's authors with their ids.
	var shown struct {
		Authors []struct {
			Login  string
			UserID int64 `json:"user_id"`
		}
	}
	w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", c.ID), nil, &shown)
	if len(shown.Authors) == 0 || shown.Authors[0].Login != "Codertocat" || shown.Authors[0].UserID != coder {
		t.Fatalf("GET the release: got authors %+v, want Codertocat (id %d) first", shown.Authors, coder)
	}
	bob := w.token(t, "bob", patchgate.RoleReleaseManager, "github:bob")
	if code, msg := w.call(t, bob, http.MethodPost, approve, nil); code != http.StatusOK {
		t.Fatalf("bob, who wrote nothing, approves: got %d %q", code, msg)
	}
}

// TestTrustFollowsTheAccountNotTheLogin: bob is a trusted user. After he
// renames his account, his pushes under the new login still run with the
// suite secrets; whoever registers the released login "bob" pushes
// untrusted, waiting for a maintainer. (Failed before trust compared pinned
// ids: the newcomer's push ran as bob's, and bob's under his new login
// waited.)
func TestTrustFollowsTheAccountNotTheLogin(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TrustedUsers = []string{"bob"}
		c.Repos[0].Secrets = map[string]string{"DEPLOY_KEY": "dk-push-secret"}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	yml := []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")
	verifications := func(sha string) int {
		var list struct{ Verifications []patchgate.Verification }
		app.api(t, http.MethodGet, "/api/v1/verifications?sha="+sha, nil, &list)
		return len(list.Verifications)
	}
	first := repo.commit("bob's work", map[string][]byte{".patchgate.yml": yml})
	app.pushBy(t, "push-bob", "feature-bob", first, "bob")
	if n := verifications(first); n != 1 {
		t.Fatalf("bob's push: got %d verifications, want 1", n)
	}

	app.forge.RenameUser("bob", "bob-renamed")
	renamed := repo.commit("bob's work, renamed", map[string][]byte{"f-renamed": []byte("x")})
	app.pushBy(t, "push-bob-renamed", "feature-renamed", renamed, "bob-renamed")
	if n := verifications(renamed); n != 1 {
		t.Fatalf("bob's push under his new login: got %d verifications, want 1 (he is still trusted)", n)
	}

	newcomer := repo.commit("the newcomer's work", map[string][]byte{"f-new": []byte("y")})
	app.pushBy(t, "push-new-bob", "feature-new", newcomer, "bob") // a new account under the released login
	if n := verifications(newcomer); n != 0 {
		t.Fatalf("a push by the new account under the login bob: got %d verifications, want 0 before a maintainer's %s", n, patchgate.OkToTestComment)
	}
	waitStatus(t, app, newcomer, "waiting for a maintainer")
}
