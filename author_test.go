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
		{"ids tell apart two people under one login", Authorship{Openers: []ForgeUser{{Login: "alice", UserID: 11}}, Pushers: []ForgeUser{{Login: "alice", UserID: 99}, {Login: "Alice", UserID: 11}}},
			[]string{"alice", "alice"}},
		{"one id under two logins is one author", Authorship{Openers: []ForgeUser{{Login: "alice", UserID: 11}},
			Commits: []Commit{{Author: "alice-renamed", AuthorID: 11, Committer: "alice-renamed", CommitterID: 11, Parents: []string{"p"}}}},
			[]string{"alice"}},
		{"opener only", Authorship{Openers: logins("codertocat")}, []string{"codertocat"}},
		{"a release manager's commit in someone's PR", Authorship{
			Openers: logins("codertocat"),
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
		{"pushers, once each", Authorship{Openers: logins("Alice"), Pushers: logins("alice", "mallory")}, []string{"Alice", "mallory"}},
		{"a trailer without an email is not one", Authorship{Commits: []Commit{{Parents: []string{"p"}, Message: "Co-authored-by: frank"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.in.Authors() {
				got = append(got, p.Login)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// logins are people named by login alone, their ids unknown.
func logins(names ...string) []ForgeUser {
	var out []ForgeUser
	for _, n := range names {
		out = append(out, ForgeUser{Login: n})
	}
	return out
}

func TestAuthorshipWrote(t *testing.T) {
	a := Authorship{Openers: logins("codertocat"), Commits: []Commit{{Author: "Alice", Parents: []string{"p"}}},
		Pushers: []ForgeUser{{Login: "dev", UserID: 7}}}
	tests := []struct {
		name   string
		person ForgeUser
		want   bool
	}{
		{"commit author, other case", ForgeUser{Login: "alice"}, true},
		{"opener", ForgeUser{Login: "codertocat"}, true},
		{"someone else", ForgeUser{Login: "bob"}, false},
		{"nobody", ForgeUser{}, false},
		{"a pusher under a new login, same id", ForgeUser{Login: "dev-renamed", UserID: 7}, true},
		{"someone else who registered the pusher's released login", ForgeUser{Login: "dev", UserID: 99}, false},
		{"the pusher's login, id unknown: the login decides", ForgeUser{Login: "dev"}, true},
		{"an id against an author known by name only: the login decides", ForgeUser{Login: "alice", UserID: 12}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.Wrote(tt.person); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergeOnlyMerges(t *testing.T) {
	f := func(path, blob string) ChangedFile {
		return ChangedFile{Path: path, Status: FileModified, BlobSHA: blob}
	}
	gone := func(path string) ChangedFile { return ChangedFile{Path: path, Status: FileRemoved} }
	for _, tc := range []struct {
		name         string
		ours, theirs []ChangedFile
		only, known  bool
	}{
		{"takes the other side's files as they are", []ChangedFile{f("a", "1")}, []ChangedFile{f("a", "1"), f("b", "2")}, true, true},
		{"nothing to merge", nil, nil, true, true},
		{"a third version of a file: a resolution", []ChangedFile{f("a", "3")}, []ChangedFile{f("a", "1")}, false, true},
		{"a file the other side never touched", []ChangedFile{f("c", "1")}, []ChangedFile{f("a", "1")}, false, true},
		{"removed as the other side removed it", []ChangedFile{gone("a")}, []ChangedFile{gone("a")}, true, true},
		{"removed although the other side kept it", []ChangedFile{gone("a")}, []ChangedFile{f("a", "1")}, false, true},
		{"no blob ids: cannot tell", []ChangedFile{{Path: "a", Status: FileModified}}, []ChangedFile{f("a", "1")}, false, false},
	} {
		if only, known := MergeOnlyMerges(tc.ours, tc.theirs); only != tc.only || known != tc.known {
			t.Errorf("%s: got only %v known %v, want %v %v", tc.name, only, known, tc.only, tc.known)
		}
	}
}
