package patchgate

import (
	"fmt"
	"slices"
	"strings"
)

// ForgeUser is a person's login on one forge, written "github:alice". A token
// that can approve names its holder this way on each forge, so that approvals
// and the author rule count people, not tokens.
type ForgeUser struct {
	Forge Forge  `json:"forge"`
	Login string `json:"login"`
	// UserID is the forge's numeric id of the account, pinned when the token
	// was created (or read from the forge for a comment's author); 0 when
	// unknown (tokens created before patchgate pinned people).
	UserID int64 `json:"user_id,omitempty"`
}

// String renders u as "forge:login".
func (u ForgeUser) String() string { return string(u.Forge) + ":" + u.Login }

// Labelled renders u's login with its user id, "alice (id 11)", so that
// whoever reads a record sees which account a login named at the time.
func (u ForgeUser) Labelled() string { return LoginWithID(u.Login, u.UserID) }

// LoginWithID renders a login with its forge user id, "alice (id 11)"; the
// login alone when the id is unknown.
func LoginWithID(login string, userID int64) string {
	if userID == 0 {
		return login
	}
	return fmt.Sprintf("%s (id %d)", login, userID)
}

// SameUser reports whether a and b are one person. People are forge user
// ids: when both ids are known they decide alone, so a renamed login stays
// the same person and whoever registers a released login is someone else.
// Only when either id is unknown do the logins decide, compared as the forges
// compare them, without regard to case. That fallback is for reading what was
// stored without an id: approvals and tokens written before patchgate pinned
// people, a change whose webhook named no author id, a commit the forge maps
// to no account. A new approval always carries its approver's id
// (Principal.Approver refuses one without), so the fallback never lets a
// login alone approve.
func SameUser(a, b ForgeUser) bool {
	if a.Forge != "" && b.Forge != "" && a.Forge != b.Forge {
		return false
	}
	if a.UserID != 0 && b.UserID != 0 {
		return a.UserID == b.UserID
	}
	return SameLogin(a.Login, b.Login)
}

// MaxLogin is the longest login patchgate accepts (GitLab allows 255).
const MaxLogin = 255

// ParseForgeUser reads "forge:login" (e.g. "github:alice", "gitlab:alice.b"),
// checking that the forge is known and the login valid on it.
func ParseForgeUser(s string) (ForgeUser, error) {
	forge, login, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return ForgeUser{}, Errorf(EINVALID, "user %q: want forge:login, e.g. github:alice or gitlab:alice.b", s)
	}
	u := ForgeUser{Forge: Forge(strings.ToLower(forge)), Login: login}
	return u, u.Validate()
}

// ParseForgeUsers reads a list of "forge:login" items (see ParseForgeUser).
func ParseForgeUsers(items []string) ([]ForgeUser, error) {
	users := make([]ForgeUser, 0, len(items))
	for _, item := range items {
		u, err := ParseForgeUser(item)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// Validate checks that the forge is known and the login is one it could have
// issued: GitHub logins are letters, digits and single inner hyphens (at most
// 39); GitLab usernames are letters, digits, "_", "-" and ".", starting with a
// letter, digit or "_" and not ending in "." (nor ".git" or ".atom").
func (u ForgeUser) Validate() error {
	if u.Forge != GitHub && u.Forge != GitLab {
		return Errorf(EINVALID, "user %q: unknown forge %q (want github or gitlab)", u.String(), string(u.Forge))
	}
	bad := func(why string) error { return Errorf(EINVALID, "user %q: %s", u.String(), why) }
	if u.UserID < 0 {
		return bad("a forge user id is positive")
	}
	l := u.Login
	if l == "" {
		return bad("login required after the colon")
	}
	if len(l) > MaxLogin {
		return bad("login too long")
	}
	switch u.Forge {
	case GitHub:
		if len(l) > 39 {
			return bad("a GitHub login has at most 39 characters")
		}
		if l[0] == '-' || l[len(l)-1] == '-' || strings.Contains(l, "--") {
			return bad("a GitHub login has no leading, trailing or double hyphen")
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return bad("a GitHub login has only letters, digits and hyphens")
			}
		}
	case GitLab:
		if c := l[0]; !isAlnum(c) && c != '_' {
			return bad("a GitLab username starts with a letter, digit or underscore")
		}
		if strings.HasSuffix(l, ".") || strings.HasSuffix(l, ".git") || strings.HasSuffix(l, ".atom") {
			return bad(`a GitLab username does not end in ".", ".git" or ".atom"`)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '_' && c != '-' && c != '.' {
				return bad(`a GitLab username has only letters, digits, "_", "-" and "."`)
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// SameLogin reports whether two logins name the same account: both forges
// compare logins without regard to case.
func SameLogin(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// validateUsers checks a token's users: each valid, at most one per forge.
func validateUsers(users []ForgeUser) error {
	seen := map[Forge]bool{}
	for _, u := range users {
		if err := u.Validate(); err != nil {
			return err
		}
		if seen[u.Forge] {
			return Errorf(EINVALID, "user %q: a token names one person, so one login per forge", u.String())
		}
		seen[u.Forge] = true
	}
	return nil
}

// userOn returns the user users name on forge; ok false when none.
func userOn(users []ForgeUser, forge Forge) (ForgeUser, bool) {
	i := slices.IndexFunc(users, func(u ForgeUser) bool { return u.Forge == forge })
	if i < 0 || users[i].Login == "" {
		return ForgeUser{}, false
	}
	return users[i], true
}
