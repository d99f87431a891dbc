package webhooks

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/patchgate/patchgate"
)

// Secrets are the secrets a forge's deliveries are verified with: the
// forge's own, valid for every repository on it, and per-repository ones,
// valid only for deliveries naming that repository. Several secrets at once
// allow rotation.
type Secrets struct {
	Forge []string
	// Repos maps a repository's full name, lower-cased, to its own secrets.
	Repos map[string][]string
}

// Source is a forge's webhook intake: GitHub's or GitLab's deliveries,
// identified by their headers, verified against Secrets, peeked and parsed.
type Source struct {
	Forge   patchgate.Forge
	Secrets Secrets
	// Repos are the configured repositories: an authentic delivery naming
	// another is stored as ignored. Required.
	Repos *patchgate.RepositoryDirectory
}

var _ patchgate.WebhookSource = (*Source)(nil)

// Source is the forge's DeliverySource.
func (s *Source) Source() patchgate.DeliverySource { return patchgate.SourceOf(s.Forge) }

// Identify checks the delivery's headers; see GitHubDelivery and GitLabDelivery.
func (s *Source) Identify(h http.Header) (id, event string, err error) {
	var d Delivery
	switch s.Forge {
	case patchgate.GitHub:
		d, err = GitHubDelivery(h)
	case patchgate.GitLab:
		d, err = GitLabDelivery(h)
	default:
		err = patchgate.Errorf(patchgate.EINVALID, "unknown forge %q", string(s.Forge))
	}
	return d.ID, d.Event, err
}

// SignsBody is true for GitHub, whose signature covers the body, and false
// for GitLab, whose X-Gitlab-Token is checked before the body is read.
func (s *Source) SignsBody() bool { return s.Forge == patchgate.GitHub }

// Verify checks the delivery against the forge's secrets and each
// repository's. It returns nil scope when a forge-wide secret matched, else
// the repositories whose own secrets matched (several when repositories
// share a secret).
func (s *Source) Verify(h http.Header, body []byte) (scope []string, err error) {
	check := func(secrets []string) error {
		if s.Forge == patchgate.GitHub {
			return VerifyGitHub(h, body, secrets)
		}
		return VerifyGitLab(h, secrets)
	}
	if len(s.Secrets.Forge) > 0 {
		if err = check(s.Secrets.Forge); err == nil {
			return nil, nil
		}
	}
	for name, secrets := range s.Secrets.Repos {
		if len(secrets) > 0 {
			if e := check(secrets); e == nil {
				scope = append(scope, name)
			} else {
				err = e
			}
		}
	}
	if len(scope) > 0 {
		return scope, nil
	}
	if err == nil {
		// No secret was tried at all: nothing can be verified, so nothing is accepted.
		err = patchgate.Errorf(patchgate.EUNAUTHORIZED, "no webhook secret is configured for %s", s.Forge)
	}
	return nil, err
}

// Peek reads the repository and action (see the package's Peek). An ignored
// event keeps only the repository, read with RepoOf. A payload naming a
// repository the matching secret does not belong to is EFORBIDDEN: someone
// with one repository's secret must not speak for another. One naming a
// repository that is not configured is ignored.
func (s *Source) Peek(event string, body []byte, scope []string) (patchgate.WebhookPeek, error) {
	sum, err := Peek(s.Forge, event, body)
	p := patchgate.WebhookPeek{Event: event, Repo: sum.Repo, Action: sum.Action}
	var ignored *IgnoredError
	switch {
	case errors.As(err, &ignored):
		p = patchgate.WebhookPeek{Event: event, Ignored: ignored.Reason}
		p.Repo, _ = RepoOf(s.Forge, body)
	case err != nil:
		return patchgate.WebhookPeek{}, err
	}
	if !inScope(scope, p.Repo) {
		return patchgate.WebhookPeek{}, patchgate.Errorf(patchgate.EFORBIDDEN,
			"the secret that signed this delivery belongs to %s, but the payload names %s", strings.Join(scope, ", "), p.Repo)
	}
	if p.Ignored == "" {
		if _, err := s.Repos.Find(s.Forge, p.Repo); err != nil {
			p.Ignored = fmt.Sprintf("repository %s is not configured", p.Repo)
		}
	}
	return p, nil
}

// Parse parses a stored body with the package's Parse; an *IgnoredError
// becomes the ignored reason.
func (s *Source) Parse(event string, body []byte) (*patchgate.Event, string, error) {
	ev, err := Parse(s.Forge, event, body)
	var ignored *IgnoredError
	if errors.As(err, &ignored) {
		return nil, ignored.Reason, nil
	}
	return ev, "", err
}

// inScope reports whether repo may be named by a delivery signed with a
// secret of the given scope (nil: a forge-wide secret, valid for any
// repository).
func inScope(scope []string, repo string) bool {
	if scope == nil || repo == "" {
		return true
	}
	for _, s := range scope {
		if strings.EqualFold(s, repo) {
			return true
		}
	}
	return false
}
