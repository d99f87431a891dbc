package verification_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/verification"
)

// maintainerIDs are the pinned ids of a repository's maintainers.
type maintainerIDs map[int64]bool

func (m maintainerIDs) Maintainer(_ context.Context, _ *patchgate.Repository, userID int64) (bool, error) {
	return m[userID], nil
}

// TestTrustComparesPinnedIDs: with the directory set, a head is trusted for
// its author's (a push's pusher's) user id, never for the login alone.
func TestTrustComparesPinnedIDs(t *testing.T) {
	ctx := context.Background()
	trust := verification.Trust{People: maintainerIDs{11: true}}
	repo := &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments", TrustedUsers: []string{"bob"}}
	for _, tt := range []struct {
		name string
		ch   patchgate.Change
		want bool
	}{
		{"bob's push", patchgate.Change{Kind: patchgate.ChangePush, Author: "bob", AuthorID: 11}, true},
		{"bob's push under a new login", patchgate.Change{Kind: patchgate.ChangePush, Author: "bob-renamed", AuthorID: 11}, true},
		{"a new account under bob's released login", patchgate.Change{Kind: patchgate.ChangePush, Author: "bob", AuthorID: 99}, false},
		{"bob's login, no id named", patchgate.Change{Kind: patchgate.ChangePullRequest, Author: "bob"}, false},
		{"bob's PR from a fork", patchgate.Change{Kind: patchgate.ChangePullRequest, Author: "bob", AuthorID: 11, FromFork: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := trust.TrustedChange(ctx, repo, &tt.ch); err != nil || got != tt.want {
				t.Errorf("TrustedChange = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	open := &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/open"}
	if got, err := trust.TrustedChange(ctx, open, &patchgate.Change{Kind: patchgate.ChangePush, Author: "anyone"}); err != nil || !got {
		t.Errorf("a repository without trusted users: got %v, %v; want every writer trusted", got, err)
	}
	for _, tt := range []struct {
		person patchgate.ForgeUser
		want   bool
	}{
		{patchgate.ForgeUser{Login: "bob-renamed", UserID: 11}, true},
		{patchgate.ForgeUser{Login: "bob", UserID: 99}, false},
		{patchgate.ForgeUser{Login: "bob"}, true}, // a token without a pinned id: its login decides
	} {
		if got, err := trust.Maintainer(ctx, repo, tt.person); err != nil || got != tt.want {
			t.Errorf("Maintainer(%+v) = %v, %v; want %v", tt.person, got, err, tt.want)
		}
	}
}
