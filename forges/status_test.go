package forges_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/patchgate/patchgate"
)

func TestPostStatusMapsStates(t *testing.T) {
	tests := []struct {
		state      patchgate.StatusState
		wantGitHub string
		wantGitLab string
	}{
		{patchgate.StatusPending, "pending", "pending"},
		{patchgate.StatusRunning, "pending", "running"},
		{patchgate.StatusSuccess, "success", "success"},
		{patchgate.StatusFailure, "failure", "failed"},
		{patchgate.StatusError, "error", "failed"},
		{patchgate.StatusCanceled, "error", "canceled"},
	}
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			for _, tt := range tests {
				head := sha("state-" + string(tt.state))
				ff.AddCommit(tc.repo, head, nil, "m", "dev")
				st := patchgate.CommitStatus{Context: "patchgate/regression", State: tt.state,
					Description: "suite " + string(tt.state), TargetURL: "https://patchgate.example/v/1"}
				if err := c.PostStatus(context.Background(), tc.ref(), head, st); err != nil {
					t.Fatalf("%s: PostStatus: %v", tt.state, err)
				}
				got := ff.Statuses(tc.repo, head)
				want := tt.wantGitHub
				if tc.forge == patchgate.GitLab {
					want = tt.wantGitLab
				}
				if len(got) != 1 || got[0].State != want || got[0].Context != st.Context ||
					got[0].Description != st.Description || got[0].TargetURL != st.TargetURL {
					t.Errorf("%s: statuses: got %+v, want one %q status", tt.state, got, want)
				}
			}
		})
	}
}

func TestPostStatusTruncatesDescription(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("long")
			ff.AddCommit(tc.repo, head, nil, "m", "dev")
			long := strings.Repeat("é", 200)
			err := c.PostStatus(context.Background(), tc.ref(), head,
				patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusFailure, Description: long})
			if err != nil {
				t.Fatalf("PostStatus: %v", err)
			}
			got := ff.Statuses(tc.repo, head)[0].Description
			if n := utf8.RuneCountInString(got); n != 140 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
				t.Errorf("description: got %d runes %q, want 140 ending in …", n, got)
			}
		})
	}
}

func TestPostStatusRepeatedStateIsNotAnError(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("repeat")
			ff.AddCommit(tc.repo, head, nil, "m", "dev")
			st := patchgate.CommitStatus{Context: "patchgate/integration", State: patchgate.StatusRunning}
			for i := range 2 {
				if err := c.PostStatus(context.Background(), tc.ref(), head, st); err != nil {
					t.Fatalf("post %d: %v", i+1, err)
				}
			}
			if got := ff.StatusPosts(tc.repo, head, st.Context); got != 2 {
				t.Errorf("posts: got %d, want 2", got)
			}
			// GitLab refuses the second running → running (and the client accepts
			// that); GitHub records both.
			want := 2
			if tc.forge == patchgate.GitLab {
				want = 1
			}
			if got := len(ff.Statuses(tc.repo, head)); got != want {
				t.Errorf("statuses recorded: got %d, want %d", got, want)
			}
		})
	}
}

func TestPostStatusRefused(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("known")
			ff.AddCommit(tc.repo, head, nil, "m", "dev")
			ok := patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusSuccess}
			tests := []struct {
				name   string
				repo   patchgate.RepoRef
				sha    string
				status patchgate.CommitStatus
				want   string
			}{
				{"branch name for sha", tc.ref(), "main", ok, patchgate.EINVALID},
				{"short sha", tc.ref(), head[:7], ok, patchgate.EINVALID},
				{"unknown state", tc.ref(), head, patchgate.CommitStatus{Context: "patchgate", State: "done"}, patchgate.EINVALID},
				{"no context", tc.ref(), head, patchgate.CommitStatus{State: patchgate.StatusSuccess}, patchgate.EINVALID},
				{"unknown commit", tc.ref(), sha("unknown"), ok, patchgate.ENOTFOUND},
				{"unknown repo", patchgate.RepoRef{Forge: tc.forge, Name: "acme/nope"}, head, ok, patchgate.ENOTFOUND},
			}
			for _, tt := range tests {
				err := c.PostStatus(context.Background(), tt.repo, tt.sha, tt.status)
				if got := patchgate.ErrorCode(err); got != tt.want {
					t.Errorf("%s: code: got %q (%v), want %q", tt.name, got, err, tt.want)
				}
			}
		})
	}
}
