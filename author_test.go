package patchgate

import (
	"slices"
	"testing"
)

func TestAuthorshipAuthors(t *testing.T) {
	tests := []struct {
		name string
		in   Authorship
		want []string
	}{
		{"opener only", Authorship{Openers: []string{"codertocat"}}, []string{"codertocat"}},
		{"a release manager's commit in someone's PR", Authorship{
			Openers: []string{"codertocat"},
			Commits: []Commit{
				{Author: "codertocat", AuthorEmail: "c@example.com", Committer: "Codertocat", CommitterEmail: "c@example.com", Parents: []string{"p"}},
				{Author: "alice", AuthorEmail: "alice@example.com", Committer: "alice", Parents: []string{"q"}},
			},
		}, []string{"codertocat", "c@example.com", "alice", "alice@example.com"}},
		{"committer differs from author", Authorship{Commits: []Commit{{Author: "dev", Committer: "bob", Parents: []string{"p"}}}}, []string{"dev", "bob"}},
		{"co-author trailers", Authorship{Commits: []Commit{{Author: "dev", Parents: []string{"p"},
			Message: "fix\n\nCo-authored-by: Carol C <12+carol@users.noreply.github.com>\nco-authored-by: dan <dan@example.com>\n"}}},
			[]string{"dev", "Carol C", "12+carol@users.noreply.github.com", "carol", "dan", "dan@example.com"}},
		{"a merge commit does not make its merger an author", Authorship{Commits: []Commit{
			{Author: "bob", Committer: "bob", Parents: []string{"a", "b"}, Message: "Merge #7"},
		}}, nil},
		{"a merge commit's trailers count", Authorship{Commits: []Commit{
			{Author: "bob", Parents: []string{"a", "b"}, Message: "Merge #7\n\nCo-authored-by: erin <erin@example.com>"},
		}}, []string{"erin", "erin@example.com"}},
		{"pushers, once each", Authorship{Openers: []string{"Alice"}, Pushers: []string{"alice", "mallory"}}, []string{"Alice", "mallory"}},
		{"a trailer without an email is not one", Authorship{Commits: []Commit{{Parents: []string{"p"}, Message: "Co-authored-by: frank"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Authors(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAuthorshipWrote(t *testing.T) {
	a := Authorship{Openers: []string{"codertocat"}, Commits: []Commit{{Author: "Alice", Parents: []string{"p"}}}}
	tests := []struct {
		name, person string
		want         bool
	}{
		{"commit author, other case", "alice", true},
		{"opener", "codertocat", true},
		{"someone else", "bob", false},
		{"nobody", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.Wrote(tt.person); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
