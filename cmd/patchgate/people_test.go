package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestApprovalsCountPeopleNotTokens: alice's approval by a token and her
// approving comment are one approval, hers through the token. What the gate
// makes of tokens and people is usecase/gate's TestApprovalsCountPeopleNotTokens.
func TestApprovalsCountPeopleNotTokens(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	laptop := w.token(t, "alice-laptop", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, laptop, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
		t.Fatalf("alice-laptop approves: got %d %q", code, msg)
	}
	w.send(t, ghComment{delivery: "c-alice", id: 9001, author: "alice", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 1 || got[0].Approver != "alice" || got[0].Token != "alice-laptop" {
		t.Fatalf("after a token and a comment of alice: got approvals %+v, want one, alice's through alice-laptop", got)
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
			app.registerUsers(tt.users)
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
	cfg := writeConfig(t, "database: "+app.main.Config.Database+"\ngithub:\n  api_url: "+app.forge.GitHubAPIURL()+"\n  token: forge-token\n")
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
