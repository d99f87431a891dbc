package patchgate_test

import (
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestParseForgeUser(t *testing.T) {
	tests := []struct {
		name, in string
		want     patchgate.ForgeUser
		code     string
	}{
		{"github", "github:alice", patchgate.ForgeUser{Forge: patchgate.GitHub, Login: "alice"}, ""},
		{"gitlab with dot and dash", "GitLab:alice.b-2", patchgate.ForgeUser{Forge: patchgate.GitLab, Login: "alice.b-2"}, ""},
		{"github hyphen inside", "github:al-ice", patchgate.ForgeUser{Forge: patchgate.GitHub, Login: "al-ice"}, ""},
		{"no colon", "alice", patchgate.ForgeUser{}, patchgate.EINVALID},
		{"unknown forge", "gitea:alice", patchgate.ForgeUser{}, patchgate.EINVALID},
		{"empty login", "gitlab:", patchgate.ForgeUser{}, patchgate.EINVALID},
		{"github double hyphen", "github:al--ice", patchgate.ForgeUser{}, patchgate.EINVALID},
		{"github too long", "github:" + strings.Repeat("a", 40), patchgate.ForgeUser{}, patchgate.EINVALID},
		{"gitlab starts with a dot", "gitlab:.alice", patchgate.ForgeUser{}, patchgate.EINVALID},
		{"gitlab ends with .atom", "gitlab:alice.atom", patchgate.ForgeUser{}, patchgate.EINVALID},
		{"space", "github:al ice", patchgate.ForgeUser{}, patchgate.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patchgate.ParseForgeUser(tt.in)
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("ParseForgeUser(%q): got error %v, want code %q", tt.in, err, tt.code)
			}
			if tt.code == "" && got != tt.want {
				t.Fatalf("ParseForgeUser(%q): got %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPrincipalPerson(t *testing.T) {
	p := patchgate.Principal{Name: "alice-ci", Token: "alice-ci", Role: patchgate.RoleReleaseManager,
		Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice"}}}
	if got, err := p.Person(patchgate.GitHub); err != nil || got.String() != "github:alice" {
		t.Fatalf("Person(github) = %v, %v; want github:alice", got, err)
	}
	if _, err := p.Person(patchgate.GitLab); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Fatalf("Person(gitlab) of a token naming no gitlab user: got %v, want forbidden naming --user", err)
	}
}

// TestPrincipalApprover: an approval is a person's by forge user id; a token
// or comment author without one is refused, saying how to get a pinned token.
func TestPrincipalApprover(t *testing.T) {
	pinned := patchgate.Principal{Name: "alice-ci", Token: "alice-ci", Role: patchgate.RoleReleaseManager,
		Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "Alice", UserID: 11}}}
	if got, err := pinned.Approver(patchgate.GitHub); err != nil || got != (patchgate.ForgeUser{Forge: patchgate.GitHub, Login: "alice", UserID: 11}) {
		t.Fatalf("Approver of a pinned token = %+v, %v; want github:alice id 11", got, err)
	}
	tests := []struct {
		name string
		p    patchgate.Principal
		want []string
	}{
		{"unpinned token", patchgate.Principal{Name: "alice-ci", Token: "alice-ci", Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice"}}},
			[]string{`token "alice-ci"`, "no forge user id", "patchgate token create --user github:alice", "revoke this one"}},
		{"comment author without an id", patchgate.Principal{Name: "alice", Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice"}}},
			[]string{"github:alice has no forge user id", "patchgate token create --user github:alice"}},
		{"token naming nobody", patchgate.Principal{Name: "ci", Token: "ci"}, []string{"--user github:LOGIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Approver(patchgate.GitHub)
			if patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
				t.Fatalf("got %v, want forbidden", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err.Error(), s)
				}
			}
		})
	}
}
