package forges_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestCompare(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			// a ← b ← c (release) and a ← d (main): release is 2 ahead, 1 behind.
			a, b, cc, d := sha("a"), sha("b"), sha("c"), sha("d")
			ff.AddCommit(tc.repo, a, tree, "root", "alice")
			ff.AddCommit(tc.repo, b, nil, "PAY-1: fix rounding\n\nbody", "bob", a)
			ff.AddCommit(tc.repo, cc, nil, "PAY-2: fix totals", "carol", b)
			ff.AddCommit(tc.repo, d, nil, "docs", "dave", a)
			ff.SetBranch(tc.repo, "main", d)
			ff.SetBranch(tc.repo, "release", cc)

			tests := []struct {
				name        string
				base, head  string
				ahead       int
				behind      int
				wantCommits []patchgate.Commit
			}{
				{"branches", "main", "release", 2, 1, []patchgate.Commit{
					{SHA: b, Message: "PAY-1: fix rounding\n\nbody", Author: "bob"},
					{SHA: cc, Message: "PAY-2: fix totals", Author: "carol"},
				}},
				{"shas", a, b, 1, 0, []patchgate.Commit{{SHA: b, Message: "PAY-1: fix rounding\n\nbody", Author: "bob"}}},
				{"identical", cc, cc, 0, 0, nil},
				{"behind", cc, a, 0, 2, nil},
			}
			for _, tt := range tests {
				got, err := c.Compare(context.Background(), tc.ref(), tt.base, tt.head)
				if err != nil {
					t.Fatalf("%s: Compare: %v", tt.name, err)
				}
				if got.Ahead != tt.ahead || got.Behind != tt.behind || got.Base != tt.base || got.Head != tt.head {
					t.Errorf("%s: got ahead %d behind %d (%s...%s), want %d %d", tt.name, got.Ahead, got.Behind, got.Base, got.Head, tt.ahead, tt.behind)
				}
				if len(got.Commits) != len(tt.wantCommits) {
					t.Fatalf("%s: commits: got %d, want %d", tt.name, len(got.Commits), len(tt.wantCommits))
				}
				for i, w := range tt.wantCommits {
					g := got.Commits[i]
					if g.SHA != w.SHA || g.Message != w.Message || g.Author != w.Author || g.Timestamp.IsZero() {
						t.Errorf("%s: commit %d: got %+v, want %+v with a timestamp", tt.name, i, g, w)
					}
					// The author rule needs who committed and how, per the forge.
					if g.Committer != w.Author || g.AuthorEmail != w.Author+"@example.com" || g.CommitterEmail != w.Author+"@example.com" || len(g.Parents) != 1 {
						t.Errorf("%s: commit %d: got committer %q, emails %q %q, parents %v; want %s, %s@example.com twice, one parent",
							tt.name, i, g.Committer, g.AuthorEmail, g.CommitterEmail, g.Parents, w.Author, w.Author)
					}
				}
			}

			for _, refs := range [][2]string{{"main", "nope"}, {sha("nope"), "main"}} {
				_, err := c.Compare(context.Background(), tc.ref(), refs[0], refs[1])
				if got := patchgate.ErrorCode(err); got != patchgate.ENOTFOUND {
					t.Errorf("compare %s...%s: code: got %q (%v), want %q", refs[0], refs[1], got, err, patchgate.ENOTFOUND)
				}
			}
		})
	}
}

func TestCompareManyCommits(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			const n = 230 // three GitHub pages of 100
			prev := sha("base")
			ff.AddCommit(tc.repo, prev, nil, "base", "dev")
			for i := range n {
				s := sha(fmt.Sprint(i))
				ff.AddCommit(tc.repo, s, nil, fmt.Sprint("commit ", i), "dev", prev)
				prev = s
			}
			got, err := c.Compare(context.Background(), tc.ref(), sha("base"), prev)
			if err != nil {
				t.Fatalf("Compare: %v", err)
			}
			if got.Ahead != n || len(got.Commits) != n {
				t.Fatalf("got ahead %d with %d commits, want %d", got.Ahead, len(got.Commits), n)
			}
			for i, cm := range got.Commits {
				if cm.SHA != sha(fmt.Sprint(i)) {
					t.Fatalf("commit %d: got %s, want %s (oldest first)", i, cm.SHA, sha(fmt.Sprint(i)))
				}
			}
		})
	}
}

func TestCompareFiles(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			base, fix := sha("base"), sha("fix")
			ff.AddCommit(tc.repo, base, map[string][]byte{
				"calc/calc.go":      []byte("package calc\n\nfunc Round(x float64) float64 { return x }\n"),
				"calc/calc_test.go": []byte("package calc\n\nfunc TestFloor(t *testing.T) {\n}\n"),
				"old.txt":           []byte("gone\n"),
			}, "root", "alice")
			ff.AddCommit(tc.repo, fix, map[string][]byte{
				"calc/calc.go":      []byte("package calc\n\nfunc Round(x float64) float64 { return math.Round(x) }\n"),
				"calc/calc_test.go": []byte("package calc\n\nfunc TestFloor(t *testing.T) {\n}\n\nfunc TestRound(t *testing.T) {\n\tcheck(t)\n}\n"),
				"old.txt":           nil,
			}, "PAY-7: fix rounding", "bob", base)
			got, err := c.Compare(context.Background(), tc.ref(), base, fix)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]patchgate.FileStatus{
				"calc/calc.go": patchgate.FileModified, "calc/calc_test.go": patchgate.FileModified, "old.txt": patchgate.FileRemoved,
			}
			if len(got.Files) != len(want) {
				t.Fatalf("files: got %+v, want %v", got.Files, want)
			}
			for _, f := range got.Files {
				if want[f.Path] != f.Status || f.Patch == "" {
					t.Errorf("file %s: got status %q patch %q, want %q with a patch", f.Path, f.Status, f.Patch, want[f.Path])
				}
			}
			tests := patchgate.DiscoverTests(got.Files)
			if len(tests) != 1 || tests[0].String() != "calc/calc_test.go:TestRound" {
				t.Errorf("discovered %v, want [calc/calc_test.go:TestRound]", tests)
			}
		})
	}
}
