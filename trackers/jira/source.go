package jira

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
)

// Site is one configured Jira site as webhook intake sees it.
type Site struct {
	Config *Config
	// WebhookSecrets sign the site's deliveries; several at once allow
	// rotation.
	WebhookSecrets []string
}

// Source is the webhook intake of every configured Jira site: deliveries
// are identified by X-Atlassian-Webhook-Identifier, verified against each
// site's secrets, peeked and parsed into issue events of the site whose
// project they name.
type Source struct {
	sites     []Site
	byProject map[string]int
}

var _ patchgate.WebhookSource = (*Source)(nil)

// NewSource returns the intake of sites; with none, every delivery is
// refused as unauthorized.
func NewSource(sites []Site) *Source {
	s := &Source{sites: sites, byProject: map[string]int{}}
	for i, site := range sites {
		for _, p := range site.Config.Projects {
			s.byProject[p] = i
		}
	}
	return s
}

// Site returns the index of the site of key's project (PAY-7 → PAY's
// site), or -1.
func (s *Source) Site(key string) int {
	prefix, _, _ := strings.Cut(key, "-")
	if i, ok := s.byProject[prefix]; ok {
		return i
	}
	return -1
}

// Source is patchgate.SourceJira.
func (s *Source) Source() patchgate.DeliverySource { return patchgate.SourceJira }

// Identify returns the delivery's identifier; Jira names the event only in
// the body. EUNAUTHORIZED when no Jira site is configured, EINVALID when the
// identifier is missing.
func (s *Source) Identify(h http.Header) (id, event string, err error) {
	if len(s.sites) == 0 {
		return "", "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "no Jira tracker is configured")
	}
	id, err = DeliveryID(h)
	return id, "", err
}

// SignsBody is true: X-Hub-Signature is an HMAC of the body.
func (s *Source) SignsBody() bool { return true }

// Verify checks X-Hub-Signature against each site's secrets and returns the
// projects of the first site whose secret matched; EUNAUTHORIZED when none
// did.
func (s *Source) Verify(h http.Header, body []byte) (scope []string, err error) {
	err = patchgate.Errorf(patchgate.EUNAUTHORIZED, "no Jira tracker is configured")
	for _, site := range s.sites {
		if err = VerifySignature(h, body, site.WebhookSecrets); err == nil {
			return site.Config.Projects, nil
		}
	}
	return nil, err
}

// Peek reads a verified body's event, action and project key, the prefix of
// the issue's key. An issue of a project that the site whose secret signed it
// does not list is ignored, not refused: a site's webhook sends every
// project's issues. So is an issue whose fields name another project than its
// key: a site's secret speaks for its own projects' tickets only.
func (s *Source) Peek(_ string, body []byte, scope []string) (patchgate.WebhookPeek, error) {
	w, err := ParseWebhook(body)
	var ig *IgnoredError
	if errors.As(err, &ig) {
		return patchgate.WebhookPeek{Event: peekEvent(body), Ignored: ig.Reason}, nil
	} else if err != nil {
		return patchgate.WebhookPeek{}, err
	}
	p := patchgate.WebhookPeek{Event: w.Event, Action: w.Action(), Repo: w.Issue.Project()}
	switch {
	case w.Issue.Mismatch() != "":
		p.Ignored = w.Issue.Mismatch()
	case !slices.Contains(scope, p.Repo) && s.Site(w.Issue.Key) >= 0:
		p.Ignored = fmt.Sprintf("issue %s is of project %s, which is not a project of the Jira tracker that signed the delivery (%s)",
			w.Issue.Key, p.Repo, strings.Join(scope, ", "))
	case !slices.Contains(scope, p.Repo):
		p.Ignored = fmt.Sprintf("Jira project %s is not configured", p.Repo)
	}
	return p, nil
}

// peekEvent reads the webhookEvent of an ignored delivery, for the log.
func peekEvent(body []byte) string {
	_, rest, ok := strings.Cut(string(body[:min(len(body), 4096)]), `"webhookEvent":`)
	if !ok {
		return ""
	}
	v, err := strconv.QuotedPrefix(strings.TrimSpace(rest))
	if err != nil {
		return ""
	}
	e, _ := strconv.Unquote(v)
	return e
}

// Parse turns a stored delivery into an issue event of its site: Repo is
// the project key, Sender "jira:<site>", Issue what the site's Update says.
func (s *Source) Parse(_ string, body []byte) (*patchgate.Event, string, error) {
	w, err := ParseWebhook(body)
	var ig *IgnoredError
	if errors.As(err, &ig) {
		return nil, ig.Reason, nil
	} else if err != nil {
		return nil, "", err
	}
	if reason := w.Issue.Mismatch(); reason != "" {
		return nil, reason, nil
	}
	i := s.Site(w.Issue.Key)
	if i < 0 {
		return nil, "Jira project " + w.Issue.Project() + " is not configured", nil
	}
	u := s.sites[i].Config.Update(w)
	prefix, num, _ := strings.Cut(u.Key, "-")
	n, _ := strconv.Atoi(num)
	issue := &patchgate.IssueEvent{Number: n, State: string(u.State), UpdatedAt: u.UpdatedAt, CreatedAt: u.OpenedAt}
	if u.Title != nil {
		issue.Title, issue.URL, issue.Severity = *u.Title, *u.URL, *u.Severity
	}
	if u.SupportLevel != nil {
		issue.SupportLevel = *u.SupportLevel
	}
	return &patchgate.Event{Source: patchgate.SourceJira, Kind: patchgate.EventIssue, Name: w.Event, Action: w.Action(),
		Repo: prefix, Sender: u.Source, Issue: issue}, "", nil
}
