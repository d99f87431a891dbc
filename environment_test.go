package patchgate

import "testing"

func TestCacheScope(t *testing.T) {
	tests := []struct {
		name                  string
		kind                  ChangeKind
		branch, releaseBranch string
		want                  string
	}{
		{"push to the default release branch", ChangePush, "main", "", "release:main"},
		{"push to the configured release branch", ChangePush, "release-1", "release-1", "release:release-1"},
		{"push to another branch", ChangePush, "feature", "", ""},
		{"push to main when another branch releases", ChangePush, "main", "release-1", ""},
		{"PR into the release branch", ChangePullRequest, "main", "main", ""},
		{"MR into the release branch", ChangeMergeRequest, "main", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CacheScope(tt.kind, tt.branch, tt.releaseBranch); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
