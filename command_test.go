package patchgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestCommentVouches(t *testing.T) {
	at := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	claim := &patchgate.CommentEvent{ID: 42, Number: 7, Author: "alice", Body: "LGTM\r\n/patchgate approve", CreatedAt: at}
	same := func(edit func(*patchgate.ForgeComment)) *patchgate.ForgeComment {
		c := &patchgate.ForgeComment{ID: 42, Number: 7, AuthorID: 11, Author: "Alice", Body: "LGTM\n/patchgate approve", CreatedAt: at.Add(300 * time.Millisecond)}
		if edit != nil {
			edit(c)
		}
		return c
	}
	for _, tt := range []struct {
		name string
		read *patchgate.ForgeComment
		want string // "" when the forge vouches; else a part of the reason
	}{
		{"the forge has it as claimed", same(nil), ""},
		{"the forge has no such comment", nil, "the forge has no comment 42 on #7"},
		{"another comment answered", same(func(c *patchgate.ForgeComment) { c.ID = 43 }), "answered comment 43"},
		{"on another change", same(func(c *patchgate.ForgeComment) { c.Number = 8 }), "is on #8, not #7"},
		{"by someone else", same(func(c *patchgate.ForgeComment) { c.Author = "mallory" }), "written by mallory, not alice"},
		{"author unnamed", same(func(c *patchgate.ForgeComment) { c.Author = "" }), "written by nobody named, not alice"},
		{"another text", same(func(c *patchgate.ForgeComment) { c.Body = "/patchgate approve" }), "is not the text"},
		{"written at another time", same(func(c *patchgate.ForgeComment) { c.CreatedAt = at.Add(-time.Hour) }), "was written at 2026-12-07T19:00:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := patchgate.CommentVouches(claim, tt.read)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
