package webhooks

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// GitLabDelivery checks the headers of a GitLab delivery before its body is
// read: X-Gitlab-Event present and plain; the id from Idempotency-Key (stable
// across GitLab's retries), else X-Gitlab-Event-UUID, else EINVALID; and
// X-Gitlab-Token present (EUNAUTHORIZED otherwise).
func GitLabDelivery(h http.Header) (Delivery, error) {
	event, err := requireHeader(h, HeaderGitLabEvent, 64, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ' '
	})
	if err != nil {
		return Delivery{}, err
	}
	var id string
	switch {
	case len(h.Values(HeaderIdempotencyKey)) > 0:
		id, err = requireHeader(h, HeaderIdempotencyKey, maxIDLen, idByte)
	case len(h.Values(HeaderGitLabEventUUID)) > 0:
		id, err = requireHeader(h, HeaderGitLabEventUUID, maxIDLen, idByte)
	default:
		err = patchgate.Errorf(patchgate.EINVALID, "header %s or %s is required", HeaderIdempotencyKey, HeaderGitLabEventUUID)
	}
	if err != nil {
		return Delivery{}, err
	}
	if tok, _ := header(h, HeaderGitLabToken); tok == "" {
		return Delivery{}, patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing", HeaderGitLabToken)
	}
	return Delivery{Forge: patchgate.GitLab, ID: id, Event: event}, nil
}

// ParseGitLab turns a verified GitLab payload into an Event. Events and actions
// patchgate does not act on give an *IgnoredError, as do payloads missing what
// identifies their object; a body that is not the JSON of the named event gives
// EINVALID.
func ParseGitLab(event string, body []byte) (*patchgate.Event, error) {
	switch gitlab.EventType(event) {
	case gitlab.EventTypeMergeRequest:
		e, err := parseGitLabWebhook[*gitlab.MergeEvent](event, body)
		if err != nil {
			return nil, err
		}
		return gitlabMerge(event, e)
	case gitlab.EventTypePush:
		e, err := parseGitLabWebhook[*gitlab.PushEvent](event, body)
		if err != nil {
			return nil, err
		}
		return gitlabPush(event, e)
	case gitlab.EventTypeIssue, gitlab.EventConfidentialIssue:
		e, err := parseGitLabWebhook[*gitlab.IssueEvent](event, body)
		if err != nil {
			return nil, err
		}
		return gitlabIssue(event, e)
	case gitlab.EventTypeNote, gitlab.EventConfidentialNote:
		return gitlabNote(event, body)
	case gitlab.EventTypeTagPush:
		return nil, ignoredf("tag pushes are not used")
	case EventGitLabDeployment:
		return gitlabDeployment(body)
	}
	return nil, ignoredf("event %q is not used", event)
}

func parseGitLabWebhook[T any](event string, body []byte) (T, error) {
	var zero T
	v, err := gitlab.ParseWebhook(gitlab.EventType(event), body)
	if err != nil {
		return zero, invalidJSON(event, err)
	}
	t, ok := v.(T)
	if !ok {
		return zero, patchgate.Errorf(patchgate.EINVALID, "%s payload parsed as %T", event, v)
	}
	return t, nil
}

// wrongKind rejects a body whose object_kind is not what its header claims:
// the two come from the same sender, so a mismatch is a broken request.
func wrongKind(event, kind string) error {
	return patchgate.Errorf(patchgate.EINVALID, "%s payload has object_kind %q", event, kind)
}

func gitlabMerge(event string, e *gitlab.MergeEvent) (*patchgate.Event, error) {
	if e.ObjectKind != "merge_request" {
		return nil, wrongKind(event, e.ObjectKind)
	}
	oa := &e.ObjectAttributes
	var action string
	switch oa.Action {
	case "open":
		action = "opened"
	case "reopen":
		action = "reopened"
	case "close":
		action = "closed"
	case "merge":
		action = "merged"
	case "update":
		// GitLab sends "update" for any edit; only a push to the source branch
		// carries oldrev, the head it replaced.
		action = "edited"
		if oa.OldRev != "" {
			action = "synchronize"
		}
	default:
		return nil, ignoredf("merge request action %q is not used", oa.Action)
	}
	repo, err := repoName(event, e.Project.PathWithNamespace)
	if err != nil {
		return nil, err
	}
	number, err := gitlabIID("merge request", oa.IID)
	if err != nil {
		return nil, err
	}
	if oa.LastCommit.ID == "" {
		return nil, ignoredf("merge request !%d payload has no last_commit", number)
	}
	updated, err := gitlabTime("updated_at", oa.UpdatedAt)
	if err != nil {
		return nil, err
	}
	lc := &oa.LastCommit
	c := &patchgate.ChangeEvent{
		Number:       number,
		Title:        oa.Title,
		Body:         oa.Description,
		SourceBranch: oa.SourceBranch,
		TargetBranch: oa.TargetBranch,
		HeadSHA:      lc.ID,
		BeforeSHA:    oa.OldRev,
		State:        gitlabMRState(oa.State, oa.StateID, action),
		URL:          oa.URL,
		LastCommit: &patchgate.Commit{
			SHA:       lc.ID,
			Message:   lc.Message,
			Author:    lc.Author.Name,
			URL:       lc.URL,
			Timestamp: utc(lc.Timestamp),
		},
		UpdatedAt: updated,
	}
	if c.State == patchgate.ChangeMerged {
		c.MergeCommitSHA = oa.MergeCommitSHA
	}
	// The hook's user is whoever acted; the payload names the MR's author only
	// by author_id. The actor is the author when they opened the MR, or when
	// the ids agree; otherwise Author stays empty rather than name the wrong
	// person (it decides who may approve and who is trusted).
	if e.User != nil && (oa.Action == "open" || oa.AuthorID != 0 && e.User.ID == oa.AuthorID) {
		c.Author, c.AuthorID = e.User.Username, e.User.ID
	}
	if oa.Source != nil {
		c.SourceRepo = oa.Source.PathWithNamespace
	}
	switch {
	case oa.SourceProjectID != 0 && oa.TargetProjectID != 0:
		c.FromFork = oa.SourceProjectID != oa.TargetProjectID
	case c.SourceRepo != "" && oa.Target != nil && oa.Target.PathWithNamespace != "":
		c.FromFork = !strings.EqualFold(c.SourceRepo, oa.Target.PathWithNamespace)
	default:
		// Cannot tell where the code comes from: treat it as untrusted.
		c.FromFork = true
	}
	for _, s := range []struct {
		field, sha string
	}{
		{"last_commit.id", c.HeadSHA},
		{"oldrev", c.BeforeSHA},
		{"merge_commit_sha", c.MergeCommitSHA},
	} {
		if err := checkSHA(s.field, s.sha, false); err != nil {
			return nil, err
		}
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitLab,
		Forge:  patchgate.GitLab,
		Kind:   patchgate.EventChange,
		Name:   event,
		Action: action,
		Repo:   repo,
		RepoID: e.Project.ID,
		Sender: eventUser(e.User),
		Change: c,
	}, nil
}

// gitlabMRState reads the state word, then the numeric state_id, then what the
// action implies. "locked" is GitLab's brief state while a merge is running.
func gitlabMRState(state string, id gitlab.StateID, action string) patchgate.ChangeState {
	switch state {
	case "opened", "locked":
		return patchgate.ChangeOpen
	case "closed":
		return patchgate.ChangeClosed
	case "merged":
		return patchgate.ChangeMerged
	}
	switch id {
	case gitlab.StateIDOpen, gitlab.StateIDLocked:
		return patchgate.ChangeOpen
	case gitlab.StateIDClosed:
		return patchgate.ChangeClosed
	case gitlab.StateIDMerged:
		return patchgate.ChangeMerged
	}
	switch action {
	case "closed":
		return patchgate.ChangeClosed
	case "merged":
		return patchgate.ChangeMerged
	}
	return patchgate.ChangeOpen
}

func gitlabPush(event string, e *gitlab.PushEvent) (*patchgate.Event, error) {
	switch e.ObjectKind {
	case "push":
	case "tag_push":
		return nil, ignoredf("tag pushes are not used")
	default:
		return nil, wrongKind(event, e.ObjectKind)
	}
	branch, ok := strings.CutPrefix(e.Ref, "refs/heads/")
	if !ok {
		return nil, ignoredf("push to %q is not to a branch", e.Ref)
	}
	if branch == "" {
		return nil, ignoredf("push payload names no branch")
	}
	repo, err := repoName(event, e.Project.PathWithNamespace)
	if err != nil {
		return nil, err
	}
	after := e.After
	if after == "" {
		after = e.CheckoutSHA
	}
	pusher := e.UserUsername
	if pusher == "" {
		pusher = e.UserName
	}
	// GitLab does not say whether a push was forced; Forced stays false and the
	// change's head still moves, because the gate trusts the newest head anyway.
	push := &patchgate.PushEvent{
		Ref:     e.Ref,
		Branch:  branch,
		Before:  e.Before,
		After:   after,
		Deleted: zeroSHA(after),
		Created: zeroSHA(e.Before),
		Pusher:  pusher,
		Commits: make([]patchgate.Commit, 0, len(e.Commits)),
	}
	if pusher != "" {
		push.PusherID = e.UserID
	}
	if err := checkSHA("before", push.Before, true); err != nil {
		return nil, err
	}
	if err := checkSHA("after", push.After, true); err != nil {
		return nil, err
	}
	var latest time.Time
	for _, pc := range e.Commits {
		if pc == nil {
			continue
		}
		if err := checkSHA("commit id", pc.ID, true); err != nil {
			return nil, err
		}
		c := patchgate.Commit{
			SHA:       pc.ID,
			Message:   pc.Message,
			Author:    pc.Author.Name,
			URL:       pc.URL,
			Timestamp: utc(pc.Timestamp),
		}
		push.Commits = append(push.Commits, c)
		// The head commit's time orders pushes; GitLab has no head_commit field,
		// so find it, and take the newest commit if the list was truncated.
		if c.SHA == after {
			push.PushedAt = c.Timestamp
		}
		if c.Timestamp.After(latest) {
			latest = c.Timestamp
		}
	}
	if push.PushedAt.IsZero() {
		push.PushedAt = latest
	}
	action := "pushed"
	if push.Deleted {
		action = "deleted"
	}
	repoID := e.ProjectID
	if repoID == 0 {
		repoID = e.Project.ID
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitLab,
		Forge:  patchgate.GitLab,
		Kind:   patchgate.EventPush,
		Name:   event,
		Action: action,
		Repo:   repo,
		RepoID: repoID,
		Sender: pusher,
		Push:   push,
	}, nil
}

func gitlabIssue(event string, e *gitlab.IssueEvent) (*patchgate.Event, error) {
	switch e.ObjectKind {
	case "issue":
	case "work_item":
		// Tasks, epics, objectives… share the Issue Hook; they are not bugs.
		return nil, ignoredf("work items are not used")
	default:
		return nil, wrongKind(event, e.ObjectKind)
	}
	oa := &e.ObjectAttributes
	var action string
	switch oa.Action {
	case "open":
		action = "opened"
	case "reopen":
		action = "reopened"
	case "close":
		action = "closed"
	case "update":
		action = "edited"
	default:
		return nil, ignoredf("issue action %q is not used", oa.Action)
	}
	repo, err := repoName(event, e.Project.PathWithNamespace)
	if err != nil {
		return nil, err
	}
	number, err := gitlabIID("issue", oa.IID)
	if err != nil {
		return nil, err
	}
	updated, err := gitlabTime("updated_at", oa.UpdatedAt)
	if err != nil {
		return nil, err
	}
	created, err := gitlabTime("created_at", oa.CreatedAt)
	if err != nil {
		return nil, err
	}
	src := oa.Labels
	if len(src) == 0 {
		src = e.Labels
	}
	labels := make([]string, 0, len(src))
	for _, l := range src {
		if l != nil && l.Title != "" {
			labels = append(labels, l.Title)
		}
	}
	// GitLab gives every issue a severity, "unknown" until someone sets it, so
	// only a real value overrides what the labels say.
	severity := patchgate.ParseSeverity(oa.Severity)
	if severity == patchgate.SeverityUnknown {
		severity = patchgate.SeverityFromLabels(labels)
	}
	state := issueState(oa.State)
	if oa.State == "" && oa.StateID == gitlab.StateIDClosed {
		state = "closed"
	}
	is := &patchgate.IssueEvent{
		Number:    number,
		Title:     oa.Title,
		Body:      oa.Description,
		State:     state,
		Labels:    labels,
		Severity:  severity,
		URL:       oa.URL,
		UpdatedAt: updated,
		CreatedAt: created,
	}
	// As for merge requests: the hook's user is the actor, the author is only an id.
	if e.User != nil && (oa.Action == "open" || oa.AuthorID != 0 && e.User.ID == oa.AuthorID) {
		is.Author = e.User.Username
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitLab,
		Forge:  patchgate.GitLab,
		Kind:   patchgate.EventIssue,
		Name:   event,
		Action: action,
		Repo:   repo,
		RepoID: e.Project.ID,
		Sender: eventUser(e.User),
		Issue:  is,
	}, nil
}

func gitlabIID(what string, iid int64) (int, error) {
	if iid <= 0 {
		return 0, ignoredf("%s payload has no iid", what)
	}
	if iid > math.MaxInt32 {
		return 0, patchgate.Errorf(patchgate.EINVALID, "%s iid %d is out of range", what, iid)
	}
	return int(iid), nil
}

func eventUser(u *gitlab.EventUser) string {
	if u == nil {
		return ""
	}
	return u.Username
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// gitlabTimeLayouts are the shapes GitLab's payloads use for timestamps: ISO
// 8601 ("2013-12-03T17:23:34Z", with or without fractions or an offset) and
// Ruby's default ("2013-12-03 17:23:34 UTC", "2021-04-28 21:50:00 +0200").
var gitlabTimeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05 UTC", // literal UTC: "MST" would accept any zone name at offset 0
	"2006-01-02 15:04:05.999999999 UTC",
	"2006-01-02 15:04:05 -0700",
}

// gitlabTime parses one of GitLab's timestamps; the library leaves most of them
// as strings. A timestamp that is present but unreadable is EINVALID rather
// than zero: a zero time would silently lose every later ordering decision.
func gitlabTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range gitlabTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, patchgate.Errorf(patchgate.EINVALID, "%s %q is not a timestamp GitLab sends", field, s)
}
