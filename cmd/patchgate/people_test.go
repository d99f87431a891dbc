package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestApprovalsCountPeopleNotTokens: one person holding two release-manager
// tokens, and commenting too, is one approval; a token that names nobody
// cannot approve or promote; the author rule compares people.
func TestApprovalsCountPeopleNotTokens(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	approve := fmt.Sprintf("/api/v1/releases/%d/approve", c.ID)
	promote := fmt.Sprintf("/api/v1/releases/%d/promote", c.ID)

	laptop := w.token(t, "alice-laptop", patchgate.RoleReleaseManager, "github:alice")
	ci := w.token(t, "alice-ci", patchgate.RoleReleaseManager, "github:Alice", "gitlab:alice.b")
	nobody := w.token(t, "ops-bot", patchgate.RoleReleaseManager)
	author := w.token(t, "codertocat", patchgate.RoleReleaseManager, "github:codertocat")
	bob := w.token(t, "bob", patchgate.RoleReleaseManager, "github:bob")

	if code, msg := w.call(t, laptop, http.MethodPost, approve, nil); code != http.StatusOK {
		t.Fatalf("alice-laptop approves: got %d %q", code, msg)
	}
	if code, msg := w.call(t, ci, http.MethodPost, approve, nil); code != http.StatusConflict || !strings.Contains(msg, "alice already approved") {
		t.Fatalf("alice-ci approves too: got %d %q, want 409: alice already approved", code, msg)
	}
	if code, msg := w.call(t, nobody, http.MethodPost, approve, nil); code != http.StatusForbidden || !strings.Contains(msg, "--user github:") {
		t.Fatalf("approval by a token naming nobody: got %d %q, want 403 naming --user", code, msg)
	}
	w.send(t, ghComment{delivery: "c-alice", id: 9001, author: "alice", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 1 || got[0].Approver != "alice" || got[0].Token != "alice-laptop" {
		t.Fatalf("after two tokens and a comment of alice: got approvals %+v, want one, alice's through alice-laptop", got)
	}
	if code, msg := w.call(t, laptop, http.MethodPost, promote, nil); code != http.StatusConflict || !strings.Contains(msg, "1 of the 2") {
		t.Fatalf("alice promotes alone: got %d %q, want 409 with 1 of the 2 approvals", code, msg)
	}
	// Codertocat wrote #7: the person, whatever the token is called.
	if code, msg := w.call(t, author, http.MethodPost, approve, nil); code != http.StatusForbidden || !strings.Contains(msg, "an author may not approve") {
		t.Fatalf("approval by the author's token: got %d %q, want 403", code, msg)
	}
	if code, msg := w.call(t, bob, http.MethodPost, approve, nil); code != http.StatusOK {
		t.Fatalf("bob approves: got %d %q", code, msg)
	}
	if code, msg := w.call(t, nobody, http.MethodPost, promote, nil); code != http.StatusForbidden || !strings.Contains(msg, "--user") {
		t.Fatalf("promotion by a token naming nobody: got %d %q, want 403 naming --user", code, msg)
	}
	if code, msg := w.call(t, bob, http.MethodPost, promote, nil); code != http.StatusOK {
		t.Fatalf("bob promotes after two people approved: got %d %q", code, msg)
	}

	var audit struct{ Entries []patchgate.AuditEntry }
	w.app.api(t, http.MethodGet, "/api/v1/audit?limit=500", nil, &audit)
	var approvals []map[string]string
	for _, e := range audit.Entries {
		if e.Action == patchgate.AuditApprovalCreated {
			approvals = append(approvals, e.Detail)
		}
	}
	if len(approvals) != 2 || approvals[0]["token"] != "alice-laptop" || approvals[0]["person"] != "github:alice" ||
		approvals[1]["token"] != "bob" || approvals[1]["person"] != "github:bob" {
		t.Fatalf("got approval audit details %v, want alice through alice-laptop and bob through bob", approvals)
	}
}

// TestTokenUsersAreValidated: the users a token names are forge:login pairs
// of known forges with logins the forge could have issued.
func TestTokenUsersAreValidated(t *testing.T) {
	app := startApp(t, nil)
	tests := []struct {
		name  string
		users []string
		want  string // in the error message; "" for success
	}{
		{"github and gitlab", []string{"github:alice", "gitlab:alice.b"}, ""},
		{"no forge", []string{"alice"}, "want forge:login"},
		{"unknown forge", []string{"bitbucket:alice"}, `unknown forge "bitbucket"`},
		{"empty login", []string{"github:"}, "login required"},
		{"github login with a dot", []string{"github:alice.b"}, "only letters, digits and hyphens"},
		{"github login with a leading hyphen", []string{"github:-alice"}, "hyphen"},
		{"gitlab login ending in .git", []string{"gitlab:alice.git"}, ".git"},
		{"two logins on one forge", []string{"github:alice", "github:al"}, "one login per forge"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				Token struct {
					Users []struct{ Forge, Login string }
				}
				Error struct{ Code, Message string }
			}
			code := app.api(t, http.MethodPost, "/api/v1/tokens",
				map[string]any{"name": fmt.Sprintf("t%d", i), "role": "release-manager", "users": tt.users}, &out)
			if tt.want == "" {
				if code != http.StatusCreated || len(out.Token.Users) != len(tt.users) || out.Token.Users[0].Forge+":"+out.Token.Users[0].Login != tt.users[0] {
					t.Fatalf("got %d %+v, want 201 with users %v", code, out, tt.users)
				}
				return
			}
			if code != http.StatusBadRequest || !strings.Contains(out.Error.Message, tt.want) {
				t.Fatalf("got %d %q, want 400 saying %q", code, out.Error.Message, tt.want)
			}
		})
	}
	cfg := writeConfig(t, "database: "+app.main.Config.Database+"\n")
	out := runCLI(t, "token", "create", "--name", "cli-alice", "--role", "release-manager", "--user", "github:alice", "--config", cfg)
	if !strings.HasPrefix(out, "pgt_") {
		t.Fatalf("token create --user: got %q", out)
	}
	if err := runCLIErr(t, "token", "create", "--name", "cli-bad", "--user", "github", "--config", cfg); !strings.Contains(err.Error(), "--user") {
		t.Fatalf("token create --user github: got %v, want an error naming --user", err)
	}
	if list := runCLI(t, "token", "list", "--config", cfg); !strings.Contains(list, "github:alice") {
		t.Fatalf("token list: got\n%s", list)
	}
}
