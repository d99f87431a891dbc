package webhooks

import (
	"github.com/patchgate/patchgate"
)

// checkRunPayload is the part of a check_run delivery patchgate reads. It is
// decoded into its own type rather than go-github's CheckRunEvent: the
// fields are few, and the run's timestamps (which GitHub Enterprise and
// GitHub's own examples have written in more than one format) are not read.
type checkRunPayload struct {
	Action   string `json:"action"`
	CheckRun struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		HeadSHA string `json:"head_sha"`
		App     struct {
			ID int64 `json:"id"`
		} `json:"app"`
	} `json:"check_run"`
	RequestedAction *struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
	Repository struct {
		ID       int64  `json:"id"`
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	} `json:"sender"`
}

// githubCheckRun reads a check_run delivery. Only requested_action matters:
// someone pressed a button one of patchgate's check runs offered. Who
// pressed it, on which run and commit, is the payload's claim; the use case
// reads the check run and the sender's permission back from GitHub.
func githubCheckRun(p *checkRunPayload) (*patchgate.Event, error) {
	if p.Action != "requested_action" {
		return nil, ignoredf("check_run action %q is not used", p.Action)
	}
	repo, err := repoName("check_run", p.Repository.FullName)
	if err != nil {
		return nil, err
	}
	cr := p.CheckRun
	if cr.ID <= 0 {
		return nil, ignoredf("check_run payload has no check run id")
	}
	if p.RequestedAction == nil || p.RequestedAction.Identifier == "" {
		return nil, ignoredf("check_run requested_action payload names no action")
	}
	if err := checkSHA("check_run head_sha", cr.HeadSHA, true); err != nil {
		return nil, err
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitHub,
		Forge:  patchgate.GitHub,
		Kind:   patchgate.EventCheckAction,
		Name:   "check_run",
		Action: "requested_action",
		Repo:   repo,
		RepoID: p.Repository.ID,
		Sender: p.Sender.Login,
		CheckAction: &patchgate.CheckActionEvent{
			CheckRunID: cr.ID,
			Name:       cr.Name,
			HeadSHA:    cr.HeadSHA,
			Identifier: p.RequestedAction.Identifier,
			SenderID:   p.Sender.ID,
			AppID:      cr.App.ID,
		},
	}, nil
}
