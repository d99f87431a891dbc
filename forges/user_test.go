package forges_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestUserID(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			lookup, ok := tc.MustClient(t, ff).(patchgate.UserLookup)
			if !ok {
				t.Fatal("the client is not a patchgate.UserLookup")
			}
			ctx := context.Background()
			alice := ff.AddUser("alice")
			if got, err := lookup.UserID(ctx, "Alice"); err != nil || got != alice {
				t.Fatalf("UserID(Alice) = %d, %v; want %d", got, err, alice)
			}
			ff.RenameUser("alice", "alice-renamed")
			if got, err := lookup.UserID(ctx, "alice-renamed"); err != nil || got != alice {
				t.Fatalf("UserID(alice-renamed) = %d, %v; want %d", got, err, alice)
			}
			if _, err := lookup.UserID(ctx, "alice"); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				t.Fatalf("UserID of a released login: got %v, want not_found", err)
			}
			if other := ff.AddUser("alice"); other == alice {
				t.Fatalf("a new account under the released login got alice's id %d", alice)
			}
			if _, err := lookup.UserID(ctx, ""); patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Fatalf("UserID(\"\"): got %v, want invalid", err)
			}
			if len(ff.Unhandled()) != 0 {
				t.Fatalf("routes the fake does not serve: %v", ff.Unhandled())
			}
		})
	}
}
