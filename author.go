package patchgate

import (
	"regexp"
	"slices"
	"strings"
)

// Authorship is what says who wrote a candidate: the openers of the changes
// it contains, the commits it newly contains (each change's and direct ones),
// and who pushed to the changes' branches.
type Authorship struct {
	Openers []string
	Commits []Commit
	Pushers []string
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

// Authors lists everyone who wrote the change, each once, in order of
// appearance: openers, each commit's author and committer (login or name, and
// email), Co-authored-by trailers, pushers. A merge commit (two or more
// parents) does not make its author or committer one, since merging is not
// writing; its trailers still count. A conflict resolution inside a merge
// commit is therefore not attributed (compare cannot tell it apart cheaply);
// the commits it merges are.
func (a Authorship) Authors() []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			n = strings.TrimSpace(n)
			if n != "" && !slices.ContainsFunc(out, func(o string) bool { return SamePerson(o, n) }) {
				out = append(out, n)
			}
		}
	}
	add(a.Openers...)
	for _, c := range a.Commits {
		if len(c.Parents) < 2 {
			add(c.Author, c.AuthorEmail, c.Committer, c.CommitterEmail)
		}
		add(CoAuthors(c.Message)...)
	}
	add(a.Pushers...)
	return out
}

// Wrote reports whether person is one of a's authors.
func (a Authorship) Wrote(person string) bool {
	return slices.ContainsFunc(a.Authors(), func(o string) bool { return SamePerson(o, person) })
}
