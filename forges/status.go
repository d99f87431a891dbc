package forges

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// githubState maps a status state onto GitHub's four: GitHub has no running
// (pending) and no canceled (error).
func githubState(s patchgate.StatusState) string {
	switch s {
	case patchgate.StatusRunning:
		return "pending"
	case patchgate.StatusCanceled:
		return "error"
	}
	return string(s)
}

// gitlabState maps a status state onto GitLab's: GitLab has no error state, so
// both failure and error are "failed".
func gitlabState(s patchgate.StatusState) gitlab.BuildStateValue {
	switch s {
	case patchgate.StatusPending:
		return gitlab.Pending
	case patchgate.StatusRunning:
		return gitlab.Running
	case patchgate.StatusSuccess:
		return gitlab.Success
	case patchgate.StatusCanceled:
		return gitlab.Canceled
	}
	return gitlab.Failed
}

// checkStatus validates a PostStatus call and truncates the description.
func checkStatus(forge patchgate.Forge, repo patchgate.RepoRef, sha string, s *patchgate.CommitStatus) error {
	if err := checkRepo(forge, repo); err != nil {
		return err
	}
	if err := checkSHA(sha); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	s.Description = patchgate.TruncateStatusDescription(s.Description)
	return nil
}

// optional returns nil for "", so that empty fields are left out of requests.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// PostStatus implements patchgate.StatusPoster with a commit status.
func (g *GitHub) PostStatus(ctx context.Context, repo patchgate.RepoRef, sha string, s patchgate.CommitStatus) error {
	if err := checkStatus(patchgate.GitHub, repo, sha, &s); err != nil {
		return err
	}
	owner, name := ownerName(repo)
	st := &github.RepoStatus{
		State: github.String(githubState(s.State)), Context: &s.Context,
		Description: optional(s.Description), TargetURL: optional(s.TargetURL),
	}
	action := "post status " + s.Context + " on " + repo.String() + "@" + sha
	err := g.retry.do(ctx, action, func() (*http.Response, error) {
		_, resp, err := g.client.Repositories.CreateStatus(ctx, owner, name, sha, st)
		return ghResp(resp), err
	})
	// GitHub answers 422 for a commit it does not have; the contract says ENOTFOUND.
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response.StatusCode == http.StatusUnprocessableEntity && strings.Contains(er.Message, "No commit found") {
		return fmt.Errorf("%w (%w)", patchgate.Errorf(patchgate.ENOTFOUND, "%s: no such commit on github", action), er)
	}
	return err
}

// PostStatus implements patchgate.StatusPoster with an external commit status
// named s.Context. GitLab refuses to set a status to the state it already has
// ("Cannot transition status via :run from :running"); that is success here.
func (g *GitLab) PostStatus(ctx context.Context, repo patchgate.RepoRef, sha string, s patchgate.CommitStatus) error {
	if err := checkStatus(patchgate.GitLab, repo, sha, &s); err != nil {
		return err
	}
	opt := &gitlab.SetCommitStatusOptions{
		State: gitlabState(s.State), Name: &s.Context,
		Description: optional(s.Description), TargetURL: optional(s.TargetURL),
	}
	err := g.retry.do(ctx, "post status "+s.Context+" on "+repo.String()+"@"+sha, func() (*http.Response, error) {
		_, resp, err := g.client.Commits.SetCommitStatus(repo.Name, sha, opt, gitlab.WithContext(ctx))
		return glResp(resp), err
	})
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.HasStatusCode(http.StatusBadRequest) && strings.Contains(er.Message, "Cannot transition status") {
		return nil
	}
	return err
}
