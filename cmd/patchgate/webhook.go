package main

import (
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
	"github.com/patchgate/patchgate/webhooks"
)

// webhookSources are the webhook intakes of the forges and of the Jira
// sites, for the server (verify, peek) and the delivery processor (parse).
func webhookSources(cfg Config, repos []*patchgate.Repository, dir *patchgate.RepositoryDirectory, jiras *jira.Source) patchgate.WebhookSources {
	github := &webhooks.Source{Forge: patchgate.GitHub, Repos: dir,
		Secrets: webhooks.Secrets{Forge: cfg.GitHub.WebhookSecrets, Repos: map[string][]string{}}}
	gitlab := &webhooks.Source{Forge: patchgate.GitLab, Repos: dir,
		Secrets: webhooks.Secrets{Forge: cfg.GitLab.WebhookSecrets, Repos: map[string][]string{}}}
	for i, rc := range cfg.Repos {
		if len(rc.WebhookSecrets) == 0 {
			continue
		}
		forge := github
		if repos[i].Forge == patchgate.GitLab {
			forge = gitlab
		}
		forge.Secrets.Repos[strings.ToLower(repos[i].Name)] = rc.WebhookSecrets
	}
	return patchgate.WebhookSources{
		patchgate.SourceGitHub: github,
		patchgate.SourceGitLab: gitlab,
		patchgate.SourceJira:   jiras,
		// GitLab's external status checks, signed with their shared secrets.
		patchgate.SourceGitLabStatusCheck: &webhooks.StatusCheckSource{Secrets: cfg.Enforcement.StatusCheckSecrets, Repos: dir},
	}
}
