package forges_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

func TestReadComment(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			reader, ok := tc.MustClient(t, ff).(patchgate.CommentReader)
			if !ok {
				t.Fatal("the client is not a patchgate.CommentReader")
			}
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 3, Title: "fix", Author: "bob"})
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 4, Title: "other", Author: "bob"})
			at := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
			id := ff.PutComment(tc.repo, fakeforge.Comment{Number: 3, Author: "alice", Body: "/patchgate approve", CreatedAt: at})
			ctx := context.Background()
			got, err := reader.ReadComment(ctx, tc.ref(), 3, id)
			if err != nil {
				t.Fatalf("ReadComment: %v", err)
			}
			if got.ID != id || got.Number != 3 || got.Author != "alice" || got.AuthorID == 0 || got.Body != "/patchgate approve" || !got.CreatedAt.Equal(at) {
				t.Fatalf("got %+v, want comment %d on #3 by alice (with an id) at %s", got, id, at)
			}
			for _, tt := range []struct {
				name   string
				number int
				id     int64
				code   string
			}{
				{"unknown comment", 3, id + 1000, patchgate.ENOTFOUND},
				{"comment of another change", 4, id, patchgate.ENOTFOUND},
				{"no comment id", 3, 0, patchgate.EINVALID},
			} {
				if _, err := reader.ReadComment(ctx, tc.ref(), tt.number, tt.id); patchgate.ErrorCode(err) != tt.code {
					t.Fatalf("%s: got %v, want %s", tt.name, err, tt.code)
				}
			}
			if len(ff.Unhandled()) != 0 {
				t.Fatalf("routes the fake does not serve: %v", ff.Unhandled())
			}
		})
	}
}

func TestReadChange(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			reader := tc.MustClient(t, ff).(patchgate.CommentReader)
			head := "0123456789abcdef0123456789abcdef01234567"
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 3, Title: "fix", Author: "bob", HeadSHA: head})
			ctx := context.Background()
			got, err := reader.ReadChange(ctx, tc.ref(), 3)
			if err != nil {
				t.Fatalf("ReadChange: %v", err)
			}
			if got.Number != 3 || got.HeadSHA != head || got.Author != "bob" || got.AuthorID == 0 || !got.Open {
				t.Fatalf("got %+v, want open #3 by bob (with an id) at %s", got, head)
			}
			if _, err := reader.ReadChange(ctx, tc.ref(), 4); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				t.Fatalf("unknown change: got %v, want %s", err, patchgate.ENOTFOUND)
			}
			if len(ff.Unhandled()) != 0 {
				t.Fatalf("routes the fake does not serve: %v", ff.Unhandled())
			}
		})
	}
}
