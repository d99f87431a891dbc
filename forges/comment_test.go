package forges_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

const marker = "<!-- patchgate:links -->"

func (tc forgeCase) change(number int) *patchgate.Change {
	return &patchgate.Change{Forge: tc.forge, Repo: tc.repo, Kind: tc.kind, Number: number, State: patchgate.ChangeOpen}
}

// own returns the comments on number written by the bot.
func own(ff *fakeforge.Forge, repo string, number int) []fakeforge.Comment {
	var out []fakeforge.Comment
	for _, c := range ff.Comments(repo, number) {
		if c.Author == fakeforge.BotLogin {
			out = append(out, c)
		}
	}
	return out
}

func TestUpsertComment(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 7})
			// Someone quoting the marker must never be edited.
			ff.AddComment(tc.repo, 7, "alice", "look: "+marker)
			c := tc.MustClient(t, ff)
			ctx := context.Background()

			steps := []struct {
				name       string
				body       string
				wantWrites int
				wantEdits  int
			}{
				{"create", marker + "\nLinked PAY-1.", 1, 0},
				{"unchanged", marker + "\nLinked PAY-1.", 1, 0},
				{"edit", marker + "\nLinked PAY-1, PAY-2.", 2, 1},
				{"unchanged after edit", marker + "\nLinked PAY-1, PAY-2.", 2, 1},
			}
			for _, s := range steps {
				if err := c.UpsertComment(ctx, tc.change(7), marker, s.body); err != nil {
					t.Fatalf("%s: UpsertComment: %v", s.name, err)
				}
				mine := own(ff, tc.repo, 7)
				if len(mine) != 1 {
					t.Fatalf("%s: own comments: got %d, want 1", s.name, len(mine))
				}
				if mine[0].Body != s.body {
					t.Errorf("%s: body: got %q, want %q", s.name, mine[0].Body, s.body)
				}
				if mine[0].Edits != s.wantEdits {
					t.Errorf("%s: edits: got %d, want %d", s.name, mine[0].Edits, s.wantEdits)
				}
				if got := writes(ff); got != s.wantWrites {
					t.Errorf("%s: writes: got %d, want %d (%q)", s.name, got, s.wantWrites, ff.Requests())
				}
			}
			all := ff.Comments(tc.repo, 7)
			if len(all) != 2 || all[0].Author != "alice" || all[0].Body != "look: "+marker || all[0].Edits != 0 {
				t.Errorf("alice's comment: got %+v, want it untouched", all[0])
			}
		})
	}
}

func TestUpsertCommentAddsMissingMarker(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 3})
			c := tc.MustClient(t, ff)
			for range 2 {
				if err := c.UpsertComment(context.Background(), tc.change(3), marker, "no marker here"); err != nil {
					t.Fatalf("UpsertComment: %v", err)
				}
			}
			mine := own(ff, tc.repo, 3)
			if len(mine) != 1 || mine[0].Body != marker+"\nno marker here" {
				t.Errorf("own comments: got %+v, want one with the marker prepended", mine)
			}
			if got := writes(ff); got != 1 {
				t.Errorf("writes: got %d, want 1", got)
			}
		})
	}
}

func TestUpsertCommentPaging(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			// 250 comments by others, then ours: three pages of 100.
			for i := range 250 {
				ff.AddComment(tc.repo, 9, fmt.Sprintf("user%d", i%5), fmt.Sprintf("comment %d", i))
			}
			id := ff.AddComment(tc.repo, 9, fakeforge.BotLogin, marker+"\nold")
			c := tc.MustClient(t, ff)

			if err := c.UpsertComment(context.Background(), tc.change(9), marker, marker+"\nnew"); err != nil {
				t.Fatalf("UpsertComment: %v", err)
			}
			mine := own(ff, tc.repo, 9)
			if len(mine) != 1 || mine[0].ID != id || mine[0].Body != marker+"\nnew" {
				t.Errorf("own comments: got %+v, want comment %d edited", mine, id)
			}
			lists := 0
			for _, r := range ff.Requests() {
				if strings.HasPrefix(r, "GET ") && (strings.HasSuffix(r, "/comments") || strings.HasSuffix(r, "/notes")) {
					lists++
				}
			}
			if lists != 3 {
				t.Errorf("list requests: got %d, want 3 pages", lists)
			}
			if got := writes(ff); got != 1 {
				t.Errorf("writes: got %d, want 1", got)
			}
		})
	}
}

func TestUpsertCommentRemovesDuplicates(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			first := ff.AddComment(tc.repo, 4, fakeforge.BotLogin, marker+"\none")
			ff.AddComment(tc.repo, 4, fakeforge.BotLogin, marker+"\ntwo")
			c := tc.MustClient(t, ff)

			if err := c.UpsertComment(context.Background(), tc.change(4), marker, marker+"\none"); err != nil {
				t.Fatalf("UpsertComment: %v", err)
			}
			mine := own(ff, tc.repo, 4)
			if len(mine) != 1 || mine[0].ID != first || mine[0].Edits != 0 {
				t.Errorf("own comments: got %+v, want only the oldest (%d), unedited", mine, first)
			}
		})
	}
}

func TestUpsertCommentRefused(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 1})
			c := tc.MustClient(t, ff)
			other := patchgate.GitLab
			if tc.forge == patchgate.GitLab {
				other = patchgate.GitHub
			}
			tests := []struct {
				name   string
				change *patchgate.Change
				marker string
				want   string
			}{
				{"push", &patchgate.Change{Forge: tc.forge, Repo: tc.repo, Kind: patchgate.ChangePush, SourceBranch: "main"}, marker, patchgate.EINVALID},
				{"other forge", &patchgate.Change{Forge: other, Repo: tc.repo, Kind: tc.kind, Number: 1}, marker, patchgate.EINVALID},
				{"no number", &patchgate.Change{Forge: tc.forge, Repo: tc.repo, Kind: tc.kind}, marker, patchgate.EINVALID},
				{"no marker", tc.change(1), " ", patchgate.EINVALID},
				{"unknown change", tc.change(404), marker, patchgate.ENOTFOUND},
				{"unknown repo", &patchgate.Change{Forge: tc.forge, Repo: "acme/nope", Kind: tc.kind, Number: 1}, marker, patchgate.ENOTFOUND},
			}
			for _, tt := range tests {
				err := c.UpsertComment(context.Background(), tt.change, tt.marker, "body")
				if got := patchgate.ErrorCode(err); got != tt.want {
					t.Errorf("%s: code: got %q (%v), want %q", tt.name, got, err, tt.want)
				}
			}
			if got := writes(ff); got != 0 {
				t.Errorf("writes: got %d, want 0", got)
			}
		})
	}
}

func TestUpsertCommentRetriesWholeUpsert(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 5})
			c := tc.MustClient(t, ff)
			ctx := context.Background()
			// Learn who we are first, so the failure hits the write.
			if err := c.UpsertComment(ctx, tc.change(5), "<!-- warm -->", "warm"); err != nil {
				t.Fatalf("UpsertComment: %v", err)
			}
			ff.FailNextOn("POST "+tc.api, 2, 502, nil)
			if err := c.UpsertComment(ctx, tc.change(5), marker, marker+"\nbody"); err != nil {
				t.Fatalf("UpsertComment: %v", err)
			}
			var mine int
			for _, cm := range own(ff, tc.repo, 5) {
				if strings.Contains(cm.Body, marker) {
					mine++
				}
			}
			if mine != 1 {
				t.Errorf("own marker comments: got %d, want 1", mine)
			}
		})
	}
}
