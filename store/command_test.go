package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testCommands(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	s := store.NewCommandService(open(t))
	head := strings.Repeat("a", 40)
	ok := &patchgate.CommentCommand{Forge: patchgate.GitHub, Repo: "acme/payments", CommentID: 7, Command: patchgate.CommandOkToTest, Author: "alice", Change: 9, SHA: head}
	if err := s.ClaimCommand(ctx, ok); err != nil || ok.CreatedAt.IsZero() {
		t.Fatalf("ClaimCommand = %v, created %v", err, ok.CreatedAt)
	}
	again := *ok
	wantCode(t, s.ClaimCommand(ctx, &again), patchgate.ECONFLICT)
	// Another repository's comment 7 is another comment.
	other := *ok
	other.Repo = "acme/other"
	if err := s.ClaimCommand(ctx, &other); err != nil {
		t.Fatalf("same id in another repo: %v", err)
	}
	if vouched, err := s.VouchedFor(ctx, patchgate.GitHub, "acme/payments", head); err != nil || !vouched {
		t.Fatalf("VouchedFor(head) = %v, %v; want true", vouched, err)
	}
	if vouched, err := s.VouchedFor(ctx, patchgate.GitHub, "acme/payments", strings.Repeat("b", 40)); err != nil || vouched {
		t.Fatalf("VouchedFor(other sha) = %v, %v; want false", vouched, err)
	}
	if err := s.ReleaseCommand(ctx, patchgate.GitHub, "acme/payments", 7); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimCommand(ctx, &again); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	wantCode(t, s.ClaimCommand(ctx, &patchgate.CommentCommand{Forge: patchgate.GitHub, Repo: "acme/payments"}), patchgate.EINVALID)
}
