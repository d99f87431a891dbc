package webhooks

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

// GitHubDelivery checks the headers of a GitHub delivery before its body is
// read: X-GitHub-Event and X-GitHub-Delivery present, single and plain
// (EINVALID otherwise), and X-Hub-Signature-256 present (EUNAUTHORIZED).
func GitHubDelivery(h http.Header) (Delivery, error) {
	event, err := requireHeader(h, HeaderGitHubEvent, 64, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c == '_'
	})
	if err != nil {
		return Delivery{}, err
	}
	id, err := requireHeader(h, HeaderGitHubDelivery, maxIDLen, idByte)
	if err != nil {
		return Delivery{}, err
	}
	if _, n := header(h, HeaderGitHubSignature); n == 0 {
		return Delivery{}, patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing", HeaderGitHubSignature)
	}
	return Delivery{Forge: patchgate.GitHub, ID: id, Event: event}, nil
}

// ParseGitHub turns a verified GitHub payload into an Event. Events and actions
// patchgate does not act on give an *IgnoredError, as do payloads missing what
// identifies their object; a body that is not the JSON of the named event gives
// EINVALID.
func ParseGitHub(event string, body []byte) (*patchgate.Event, error) {
	switch event {
	case "pull_request":
		var p github.PullRequestEvent
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, invalidJSON(event, err)
		}
		return githubPullRequest(&p)
	case "push":
		var p github.PushEvent
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, invalidJSON(event, err)
		}
		return githubPush(&p)
	case "issues":
		var p github.IssuesEvent
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, invalidJSON(event, err)
		}
		return githubIssue(&p)
	case "issue_comment":
		var p github.IssueCommentEvent
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, invalidJSON(event, err)
		}
		return githubComment(&p)
	case "check_run":
		var p checkRunPayload
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, invalidJSON(event, err)
		}
		return githubCheckRun(&p)
	case EventGitHubDeploymentProtectionRule:
		return githubDeploymentProtectionRule(body)
	case "ping":
		// GitHub's "hook created" hello; nothing to act on, but it must not look like a failure.
		return nil, ignoredf("ping")
	}
	return nil, ignoredf("event %q is not used", event)
}

func githubPullRequest(p *github.PullRequestEvent) (*patchgate.Event, error) {
	action := p.GetAction()
	switch action {
	case "opened", "reopened", "edited", "synchronize", "closed":
	case "ready_for_review":
		// Leaving draft changes nothing patchgate tracks but may be the first
		// event a maintainer cares about: refresh the change like an edit.
		action = "edited"
	default:
		return nil, ignoredf("pull_request action %q is not used", action)
	}
	repo, err := repoName("pull_request", p.GetRepo().GetFullName())
	if err != nil {
		return nil, err
	}
	pr := p.PullRequest
	if pr == nil {
		return nil, ignoredf("pull_request payload has no pull_request")
	}
	number := pr.GetNumber()
	if number <= 0 {
		number = p.GetNumber()
	}
	if number <= 0 {
		return nil, ignoredf("pull_request payload has no number")
	}
	head, base := pr.GetHead(), pr.GetBase()
	c := &patchgate.ChangeEvent{
		Number:       number,
		Title:        pr.GetTitle(),
		Body:         pr.GetBody(),
		SourceBranch: head.GetRef(),
		TargetBranch: base.GetRef(),
		HeadSHA:      head.GetSHA(),
		BaseSHA:      base.GetSHA(),
		Author:       pr.GetUser().GetLogin(),
		AuthorID:     pr.GetUser().GetID(),
		State:        patchgate.ChangeOpen,
		URL:          pr.GetHTMLURL(),
		UpdatedAt:    pr.GetUpdatedAt().Time.UTC(),
	}
	if pr.GetState() == "closed" {
		c.State = patchgate.ChangeClosed
		if pr.GetMerged() {
			c.State = patchgate.ChangeMerged
			// Open PRs carry a test-merge commit in merge_commit_sha; only after
			// the merge is it the commit that landed on the target branch.
			c.MergeCommitSHA = pr.GetMergeCommitSHA()
		}
	}
	if action == "closed" && c.State == patchgate.ChangeMerged {
		action = "merged"
	}
	if action == "synchronize" {
		c.BeforeSHA = p.GetBefore()
	}
	baseRepo := base.GetRepo()
	if baseRepo == nil {
		baseRepo = p.GetRepo()
	}
	// A deleted fork leaves head.repo null: its code came from elsewhere, so it
	// is treated as a fork (untrusted), never as the base repository.
	if hr := head.GetRepo(); hr == nil {
		c.FromFork = true
	} else {
		c.SourceRepo = hr.GetFullName()
		if hr.GetID() != 0 && baseRepo.GetID() != 0 {
			c.FromFork = hr.GetID() != baseRepo.GetID()
		} else {
			c.FromFork = c.SourceRepo == "" || !strings.EqualFold(c.SourceRepo, baseRepo.GetFullName())
		}
	}
	for _, s := range []struct {
		field, sha string
		required   bool
	}{
		{"head sha", c.HeadSHA, true},
		{"base sha", c.BaseSHA, false},
		{"before", c.BeforeSHA, false},
		{"merge_commit_sha", c.MergeCommitSHA, false},
	} {
		if err := checkSHA(s.field, s.sha, s.required); err != nil {
			return nil, err
		}
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitHub,
		Forge:  patchgate.GitHub,
		Kind:   patchgate.EventChange,
		Name:   "pull_request",
		Action: action,
		Repo:   repo,
		RepoID: p.GetRepo().GetID(),
		Sender: p.GetSender().GetLogin(),
		Change: c,
	}, nil
}

func githubPush(p *github.PushEvent) (*patchgate.Event, error) {
	ref := p.GetRef()
	branch, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		return nil, ignoredf("push to %q is not to a branch", ref)
	}
	if branch == "" {
		return nil, ignoredf("push payload names no branch")
	}
	repo, err := repoName("push", p.GetRepo().GetFullName())
	if err != nil {
		return nil, err
	}
	push := &patchgate.PushEvent{
		Ref:     ref,
		Branch:  branch,
		Before:  p.GetBefore(),
		After:   p.GetAfter(),
		Forced:  p.GetForced(),
		Deleted: p.GetDeleted(),
		Created: p.GetCreated(),
		Pusher:  p.GetPusher().GetName(),
		Commits: make([]patchgate.Commit, 0, len(p.Commits)),
	}
	// The pusher is named by login only; the sender, who triggered the push,
	// carries the account id when it is the same login.
	if patchgate.SameLogin(p.GetSender().GetLogin(), push.Pusher) {
		push.PusherID = p.GetSender().GetID()
	}
	if err := checkSHA("before", push.Before, true); err != nil {
		return nil, err
	}
	if err := checkSHA("after", push.After, true); err != nil {
		return nil, err
	}
	for _, hc := range p.Commits {
		if hc == nil {
			continue
		}
		c, err := githubCommit(hc)
		if err != nil {
			return nil, err
		}
		push.Commits = append(push.Commits, c)
	}
	// When GitHub saw the push orders pushes; the head commit's own time does
	// not (a force-push back to an old commit carries that commit's old time),
	// so it is only the fall-back for a payload without pushed_at.
	if ts := p.GetRepo().GetPushedAt(); !ts.Time.IsZero() && ts.Time.Unix() > 0 {
		push.PushedAt = ts.Time.UTC()
	} else {
		push.PushedAt = p.GetHeadCommit().GetTimestamp().Time.UTC()
	}
	action := "pushed"
	if push.Deleted || zeroSHA(push.After) {
		action, push.Deleted = "deleted", true
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitHub,
		Forge:  patchgate.GitHub,
		Kind:   patchgate.EventPush,
		Name:   "push",
		Action: action,
		Repo:   repo,
		RepoID: p.GetRepo().GetID(),
		Sender: p.GetSender().GetLogin(),
		Push:   push,
	}, nil
}

func githubCommit(hc *github.HeadCommit) (patchgate.Commit, error) {
	sha := hc.GetID()
	if sha == "" {
		sha = hc.GetSHA()
	}
	if err := checkSHA("commit id", sha, true); err != nil {
		return patchgate.Commit{}, err
	}
	author := hc.GetAuthor().GetLogin() // the GitHub username, when the email maps to one
	if author == "" {
		author = hc.GetAuthor().GetName()
	}
	return patchgate.Commit{
		SHA:       sha,
		Message:   hc.GetMessage(),
		Author:    author,
		URL:       hc.GetURL(),
		Timestamp: hc.GetTimestamp().Time.UTC(),
	}, nil
}

func githubIssue(p *github.IssuesEvent) (*patchgate.Event, error) {
	action := p.GetAction()
	switch action {
	case "opened", "edited", "closed", "reopened", "labeled", "unlabeled":
	case "deleted", "transferred":
		// The issue is gone from this repository; the ticket's owner decides what
		// that means, so say it rather than drop it.
	default:
		return nil, ignoredf("issues action %q is not used", action)
	}
	repo, err := repoName("issues", p.GetRepo().GetFullName())
	if err != nil {
		return nil, err
	}
	is := p.Issue
	if is == nil || is.GetNumber() <= 0 {
		return nil, ignoredf("issues payload has no issue number")
	}
	if is.IsPullRequest() {
		// GitHub sends some issues actions for pull requests too; pull_request
		// events describe those.
		return nil, ignoredf("issues event for pull request #%d is not used", is.GetNumber())
	}
	labels := make([]string, 0, len(is.Labels))
	for _, l := range is.Labels {
		if l.GetName() != "" {
			labels = append(labels, l.GetName())
		}
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitHub,
		Forge:  patchgate.GitHub,
		Kind:   patchgate.EventIssue,
		Name:   "issues",
		Action: action,
		Repo:   repo,
		RepoID: p.GetRepo().GetID(),
		Sender: p.GetSender().GetLogin(),
		Issue: &patchgate.IssueEvent{
			Number:    is.GetNumber(),
			Title:     is.GetTitle(),
			Body:      is.GetBody(),
			State:     issueState(is.GetState()),
			Labels:    labels,
			Severity:  patchgate.SeverityFromLabels(labels),
			Author:    is.GetUser().GetLogin(),
			URL:       is.GetHTMLURL(),
			UpdatedAt: is.GetUpdatedAt().Time.UTC(),
			CreatedAt: is.GetCreatedAt().Time.UTC(),
		},
	}, nil
}

func githubComment(p *github.IssueCommentEvent) (*patchgate.Event, error) {
	action := p.GetAction()
	switch action {
	case "created", "edited":
	default:
		return nil, ignoredf("issue_comment action %q is not used", action)
	}
	repo, err := repoName("issue_comment", p.GetRepo().GetFullName())
	if err != nil {
		return nil, err
	}
	if p.Issue == nil || p.Issue.GetNumber() <= 0 {
		return nil, ignoredf("issue_comment payload has no issue number")
	}
	if p.Comment == nil {
		return nil, ignoredf("issue_comment payload has no comment")
	}
	cm := p.Comment
	return &patchgate.Event{
		Source: patchgate.SourceGitHub,
		Forge:  patchgate.GitHub,
		Kind:   patchgate.EventComment,
		Name:   "issue_comment",
		Action: action,
		Repo:   repo,
		RepoID: p.GetRepo().GetID(),
		Sender: p.GetSender().GetLogin(),
		Comment: &patchgate.CommentEvent{
			ID:        cm.GetID(),
			Body:      cm.GetBody(),
			Author:    cm.GetUser().GetLogin(),
			URL:       cm.GetHTMLURL(),
			Number:    p.Issue.GetNumber(),
			OnChange:  p.Issue.IsPullRequest(),
			CreatedAt: cm.GetCreatedAt().Time.UTC(),
			UpdatedAt: cm.GetUpdatedAt().Time.UTC(),
		},
	}, nil
}

// issueState maps a forge's issue state to the two patchgate knows; anything
// that is not closed is open, as on both forges.
func issueState(s string) string {
	if s == "closed" {
		return "closed"
	}
	return "open"
}
