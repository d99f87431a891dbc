package forges_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

func TestChangeAuthor(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			finder, ok := tc.MustClient(t, ff).(patchgate.AuthorFinder)
			if !ok {
				t.Fatal("the client is not a patchgate.AuthorFinder")
			}
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 3, Title: "fix", Author: "alice.b"})
			got, err := finder.ChangeAuthor(context.Background(), tc.ref(), 3)
			if err != nil || got != "alice.b" {
				t.Fatalf("ChangeAuthor(3) = %q, %v; want alice.b", got, err)
			}
			if _, err := finder.ChangeAuthor(context.Background(), tc.ref(), 4); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				t.Fatalf("ChangeAuthor(4) of no change: got %v, want not_found", err)
			}
			if _, err := finder.ChangeAuthor(context.Background(), tc.ref(), 0); patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Fatalf("ChangeAuthor(0): got %v, want invalid", err)
			}
			if len(ff.Unhandled()) != 0 {
				t.Fatalf("routes the fake does not serve: %v", ff.Unhandled())
			}
		})
	}
}
