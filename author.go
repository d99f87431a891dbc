package patchgate

import (
	"regexp"
	"slices"
	"strings"
)

// Authorship is what says who wrote a candidate: the openers of the changes
// it contains, the commits it newly contains (each change's and direct ones),
// and who pushed to the changes' branches. Each carries the forge user id
// where the forge maps one (0 otherwise), since people are compared by id.
type Authorship struct {
	Openers []ForgeUser
	Commits []Commit
	Pushers []ForgeUser
}

// coAuthored matches a Co-authored-by trailer: a name and an email.
var coAuthored = regexp.MustCompile(`(?im)^[ \t]*co-authored-by:[ \t]*(.*?)[ \t]*<([^>\s]+)>[ \t]*$`)

// CoAuthors returns the people message's Co-authored-by trailers name: each
// trailer's name, email and, for a GitHub noreply address
// ([id+]login@users.noreply.github.com), its login.
func CoAuthors(message string) []string {
	var out []string
	for _, m := range coAuthored.FindAllStringSubmatch(message, -1) {
		out = append(out, m[1], m[2])
		if local, ok := strings.CutSuffix(strings.ToLower(m[2]), "@users.noreply.github.com"); ok {
			if _, login, ok := strings.Cut(local, "+"); ok {
				local = login
			}
			out = append(out, local)
		}
	}
	return out
}

// Authors lists everyone who wrote the change, each once (SameUser), in
// order of appearance: openers, each commit's author and committer (login or
// name with the forge user id where the forge maps one, and email),
// Co-authored-by trailers (name, email, login: no id), pushers. A merge commit (two or more
// parents) does not make its author or committer one, since merging is not
// writing, unless it ResolvesMerge (a conflict resolved: that is writing);
// its trailers always count.
func (a Authorship) Authors() []ForgeUser {
	var out []ForgeUser
	// An entry with an id and one without are both kept even under one login:
	// the one without matches by login, the one with by id.
	add := func(people ...ForgeUser) {
		for _, p := range people {
			p.Login = strings.TrimSpace(p.Login)
			if p.Login != "" && !slices.ContainsFunc(out, func(o ForgeUser) bool { return SameUser(o, p) && (o.UserID != 0) == (p.UserID != 0) }) {
				out = append(out, p)
			}
		}
	}
	named := func(names ...string) {
		for _, n := range names {
			add(ForgeUser{Login: n})
		}
	}
	add(a.Openers...)
	for _, c := range a.Commits {
		if len(c.Parents) < 2 || c.ResolvesMerge {
			add(ForgeUser{Login: c.Author, UserID: c.AuthorID})
			named(c.AuthorEmail)
			add(ForgeUser{Login: c.Committer, UserID: c.CommitterID})
			named(c.CommitterEmail)
		}
		named(CoAuthors(c.Message)...)
	}
	add(a.Pushers...)
	return out
}

// Wrote reports whether person is one of a's authors (SameUser: by forge
// user id where both are known, by login or email otherwise).
func (a Authorship) Wrote(person ForgeUser) bool {
	return slices.ContainsFunc(a.Authors(), func(o ForgeUser) bool { return SameUser(o, person) })
}
