package webhooks

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

const (
	glHead  = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
	glFirst = "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"
	glPrev  = "95790bf891e76fee5e1747ab589903a6a1f80f22"
	glNote  = "cfe32cf61b73a0d5e9f13e774abde7ff789b1660"
)

// glMROpened is gitlab/merge_request.json. Its hook user (id 1) is not the
// author (author_id 51), but on "open" the actor is the author by definition.
func glMROpened(t *testing.T) *patchgate.Event {
	return &patchgate.Event{
		Source: patchgate.SourceGitLab,
		Forge:  patchgate.GitLab,
		Kind:   patchgate.EventChange,
		Name:   "Merge Request Hook",
		Action: "opened",
		Repo:   "gitlabhq/gitlab-test",
		RepoID: 1,
		Sender: "user1",
		Change: &patchgate.ChangeEvent{
			Number:       1,
			Title:        "MS-Viewport",
			SourceBranch: "ms-viewport",
			TargetBranch: "master",
			HeadSHA:      glHead,
			Author:       "user1",
			AuthorID:     1,
			State:        patchgate.ChangeOpen,
			FromFork:     false, // source_project_id == target_project_id == 14
			SourceRepo:   "awesome_space/awesome_project",
			URL:          "http://example.com/diaspora/merge_requests/1",
			LastCommit: &patchgate.Commit{
				SHA:       glHead,
				Message:   "fixed readme",
				Author:    "GitLab dev user",
				URL:       "http://example.com/awesome_space/awesome_project/commits/" + glHead,
				Timestamp: mustTime(t, "2012-01-03T23:36:29+02:00"),
			},
			UpdatedAt: mustTime(t, "2013-12-03T17:23:34Z"),
		},
	}
}

// glPush is gitlab/push.json.
func glPush(t *testing.T) *patchgate.Event {
	return &patchgate.Event{
		Source: patchgate.SourceGitLab,
		Forge:  patchgate.GitLab,
		Kind:   patchgate.EventPush,
		Name:   "Push Hook",
		Action: "pushed",
		Repo:   "mike/diaspora",
		RepoID: 15,
		Sender: "jsmith",
		Push: &patchgate.PushEvent{
			Ref:      "refs/heads/master",
			Branch:   "master",
			Before:   glPrev,
			After:    glHead,
			Pusher:   "jsmith",
			PusherID: 4,
			Commits: []patchgate.Commit{
				{
					SHA:       glFirst,
					Message:   "Merge branch 'some-feature' into 'master'\n\nRelease v1.0.0\n\nSee merge request jsmith/example!1",
					Author:    "Jordi Mallach",
					URL:       "http://example.com/mike/diaspora/commit/" + glFirst,
					Timestamp: mustTime(t, "2011-12-12T14:27:31+02:00"),
				},
				{
					SHA:       glHead,
					Message:   "fixed readme\n",
					Author:    "GitLab dev user",
					URL:       "http://example.com/mike/diaspora/commit/" + glHead,
					Timestamp: mustTime(t, "2012-01-03T23:36:29+02:00"),
				},
			},
			// The commit whose id is "after", not the last in the list.
			PushedAt: mustTime(t, "2012-01-03T23:36:29+02:00"),
		},
	}
}

// glIssueOpened is gitlab/issue.json.
func glIssueOpened(t *testing.T) *patchgate.Event {
	return &patchgate.Event{
		Source: patchgate.SourceGitLab,
		Forge:  patchgate.GitLab,
		Kind:   patchgate.EventIssue,
		Name:   "Issue Hook",
		Action: "opened",
		Repo:   "gitlabhq/gitlab-test",
		RepoID: 1,
		Sender: "root",
		Issue: &patchgate.IssueEvent{
			Number:    23,
			Title:     "New API: create/update/delete file",
			Body:      "Create new API for manipulations with repository",
			State:     "open",
			Labels:    []string{"API"},
			Severity:  patchgate.SeverityHigh, // from the severity field
			Author:    "root",
			URL:       "http://example.com/diaspora/issues/23",
			UpdatedAt: mustTime(t, "2013-12-03T17:15:43Z"),
			CreatedAt: mustTime(t, "2013-12-03T17:15:43Z"),
		},
	}
}

func glNoteEvent(t *testing.T, repo, sender string, c *patchgate.CommentEvent) *patchgate.Event {
	return &patchgate.Event{
		Source:  patchgate.SourceGitLab,
		Forge:   patchgate.GitLab,
		Kind:    patchgate.EventComment,
		Name:    "Note Hook",
		Action:  "created",
		Repo:    repo,
		RepoID:  5,
		Sender:  sender,
		Comment: c,
	}
}

func glNoteIssue(t *testing.T) *patchgate.Event {
	return glNoteEvent(t, "gitlab-org/gitlab-test", "user1", &patchgate.CommentEvent{
		ID:   1241,
		Body: "Hello world",
		// The hook's user (42) is not the note's author (author_id 1): the
		// payload does not say who wrote it.
		Author:    "",
		URL:       "http://example.com/gitlab-org/gitlab-test/issues/17#note_1241",
		Number:    17,
		CreatedAt: mustTime(t, "2015-05-17T17:06:40Z"), // sent as "2015-05-17 17:06:40 UTC"
		UpdatedAt: mustTime(t, "2015-05-17T17:06:40Z"),
	})
}

func TestParseGitLab(t *testing.T) {
	const (
		mr    = "gitlab/merge_request.json"
		push  = "gitlab/push.json"
		issue = "gitlab/issue.json"
	)
	tests := []parseCase{
		{name: "merge request opened", event: "Merge Request Hook", file: mr, want: glMROpened(t)},
		{name: "merge request update with oldrev is a push", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.action", "update")
				setPath(m, "object_attributes.oldrev", glPrev)
			},
			want: with(glMROpened(t), func(e *patchgate.Event) {
				e.Action, e.Change.BeforeSHA = "synchronize", glPrev
				e.Change.Author, e.Change.AuthorID = "", 0 // user 1 acted; the author is user 51
			})},
		{name: "merge request update by its author is an edit", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.action", "update")
				setPath(m, "user.id", 51)
			},
			want: with(glMROpened(t), func(e *patchgate.Event) { e.Action, e.Change.AuthorID = "edited", 51 })},
		{name: "merge request merged", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.action", "merge")
				setPath(m, "object_attributes.state", "merged")
				setPath(m, "object_attributes.merge_commit_sha", ghMerge)
			},
			want: with(glMROpened(t), func(e *patchgate.Event) {
				e.Action, e.Change.State, e.Change.MergeCommitSHA, e.Change.Author, e.Change.AuthorID = "merged", patchgate.ChangeMerged, ghMerge, "", 0
			})},
		{name: "merge request closed, state from state_id", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.action", "close")
				setPath(m, "object_attributes.state", nil)
				setPath(m, "object_attributes.state_id", 2)
				setPath(m, "object_attributes.merge_commit_sha", ghMerge)
			},
			want: with(glMROpened(t), func(e *patchgate.Event) {
				e.Action, e.Change.State, e.Change.Author, e.Change.AuthorID = "closed", patchgate.ChangeClosed, "", 0
			})},
		{name: "merge request reopened", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.action", "reopen") },
			want:   with(glMROpened(t), func(e *patchgate.Event) { e.Action, e.Change.Author, e.Change.AuthorID = "reopened", "", 0 })},
		{name: "merge request from a fork", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.source_project_id", 99) },
			want:   with(glMROpened(t), func(e *patchgate.Event) { e.Change.FromFork = true })},
		{name: "merge request without project ids compares paths", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.source_project_id", nil)
				setPath(m, "object_attributes.target_project_id", nil)
			},
			want: glMROpened(t)},
		{name: "merge request of unknown origin is untrusted", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.source_project_id", nil)
				setPath(m, "object_attributes.source", nil)
			},
			want: with(glMROpened(t), func(e *patchgate.Event) { e.Change.FromFork, e.Change.SourceRepo = true, "" })},
		{name: "merge request with Ruby-style updated_at", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.updated_at", "2013-12-03 17:23:34 UTC") },
			want:   glMROpened(t)},
		{name: "merge request with an unreadable updated_at", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.updated_at", "yesterday") }, code: patchgate.EINVALID},
		{name: "merge request approved", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.action", "approved") }, ignored: `action "approved" is not used`},
		{name: "merge request without iid (group hook sample with broken keys)", event: "Merge Request Hook", file: "gitlab/group_merge_request.json", ignored: "no iid"},
		{name: "merge request with a path for a head", event: "Merge Request Hook", file: mr,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.last_commit.id", "../../x") }, code: patchgate.EINVALID},
		{name: "merge request header on a push body", event: "Merge Request Hook", file: push, code: patchgate.EINVALID},
		{name: "merge request as a Service Hook", event: "Service Hook", file: "gitlab/service_merge_request.json", ignored: `event "Service Hook" is not used`},

		{name: "push", event: "Push Hook", file: push, want: glPush(t)},
		{name: "push creating a branch", event: "Push Hook", file: push,
			mutate: func(m map[string]any) { m["before"] = zeros },
			want:   with(glPush(t), func(e *patchgate.Event) { e.Push.Before, e.Push.Created = zeros, true })},
		{name: "push deleting a branch", event: "Push Hook", file: push,
			mutate: func(m map[string]any) { m["after"], m["checkout_sha"], m["commits"] = zeros, nil, []any{} },
			want: with(glPush(t), func(e *patchgate.Event) {
				e.Action = "deleted"
				e.Push.After, e.Push.Deleted, e.Push.Commits, e.Push.PushedAt = zeros, true, []patchgate.Commit{}, time.Time{}
			})},
		{name: "push without after uses checkout_sha", event: "Push Hook", file: push,
			mutate: func(m map[string]any) { delete(m, "after") },
			want:   glPush(t)},
		{name: "push whose head commit is not listed takes the newest", event: "Push Hook", file: push,
			mutate: func(m map[string]any) { m["commits"] = m["commits"].([]any)[:1] },
			want: with(glPush(t), func(e *patchgate.Event) {
				e.Push.Commits = e.Push.Commits[:1]
				e.Push.PushedAt = mustTime(t, "2011-12-12T14:27:31+02:00")
			})},
		{name: "push of a tag with the Push Hook header", event: "Push Hook", file: push,
			mutate: func(m map[string]any) { m["ref"] = "refs/tags/v1.0.0" }, ignored: `"refs/tags/v1.0.0" is not to a branch`},
		{name: "tag push", event: "Tag Push Hook", file: "gitlab/tag_push.json", ignored: "tag pushes are not used"},

		{name: "issue opened", event: "Issue Hook", file: issue, want: glIssueOpened(t)},
		{name: "confidential issue", event: "Confidential Issue Hook", file: issue,
			want: with(glIssueOpened(t), func(e *patchgate.Event) { e.Name = "Confidential Issue Hook" })},
		{name: "issue with unknown severity falls back to labels", event: "Issue Hook", file: issue,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.severity", "unknown")
				setPath(m, "object_attributes.labels", []any{map[string]any{"title": "severity::critical"}})
			},
			want: with(glIssueOpened(t), func(e *patchgate.Event) {
				e.Issue.Labels, e.Issue.Severity = []string{"severity::critical"}, patchgate.SeverityCritical
			})},
		{name: "issue without attribute labels uses the top-level ones", event: "Issue Hook", file: issue,
			mutate: func(m map[string]any) { setPath(m, "object_attributes.labels", nil) },
			want:   glIssueOpened(t)},
		{name: "issue closed by someone else", event: "Issue Hook", file: issue,
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.action", "close")
				setPath(m, "object_attributes.state", "closed")
			},
			want: with(glIssueOpened(t), func(e *patchgate.Event) {
				e.Action, e.Issue.State, e.Issue.Author = "closed", "closed", ""
			})},
		{name: "work item", event: "Issue Hook", file: issue,
			mutate: func(m map[string]any) { m["object_kind"] = "work_item" }, ignored: "work items"},

		{name: "note on an issue", event: "Note Hook", file: "gitlab/note_issue.json", want: glNoteIssue(t)},
		{name: "note on a merge request", event: "Note Hook", file: "gitlab/note_merge_request.json",
			want: glNoteEvent(t, "gitlab-org/gitlab-test", "root", &patchgate.CommentEvent{
				ID:        1244,
				Body:      "This MR needs work.",
				Author:    "root",
				URL:       "http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_1244",
				Number:    1,
				OnChange:  true,
				CreatedAt: mustTime(t, "2015-05-17T18:21:36Z"),
				UpdatedAt: mustTime(t, "2015-05-17T18:21:36Z"),
			})},
		{name: "note on a merge request edited later", event: "Note Hook", file: "gitlab/note_merge_request.json",
			mutate: func(m map[string]any) {
				setPath(m, "object_attributes.action", "update")
				setPath(m, "object_attributes.updated_at", "2026-11-30 09:00:00 UTC")
			},
			want: with(glNoteEvent(t, "gitlab-org/gitlab-test", "root", &patchgate.CommentEvent{
				ID:        1244,
				Body:      "This MR needs work.",
				Author:    "root",
				URL:       "http://example.com/gitlab-org/gitlab-test/merge_requests/1#note_1244",
				Number:    1,
				OnChange:  true,
				CreatedAt: mustTime(t, "2015-05-17T18:21:36Z"),
				UpdatedAt: mustTime(t, "2026-11-30T09:00:00Z"),
			}), func(e *patchgate.Event) { e.Action = "edited" })},
		{name: "note on a commit", event: "Note Hook", file: "gitlab/note_commit.json",
			want: glNoteEvent(t, "gitlabhq/gitlab-test", "user1", &patchgate.CommentEvent{
				ID:        1243,
				Body:      "This is a commit comment. How does this work?",
				Author:    "", // user 42 acted; author_id 1 wrote it
				URL:       "http://example.com/gitlab-org/gitlab-test/commit/" + glNote + "#note_1243",
				CommitSHA: glNote,
				CreatedAt: mustTime(t, "2015-05-17T18:08:09Z"),
				UpdatedAt: mustTime(t, "2015-05-17T18:08:09Z"),
			})},
		{name: "confidential note edited", event: "Confidential Note Hook", file: "gitlab/note_issue.json",
			mutate: func(m map[string]any) { setPath(m, "object_attributes.action", "update") },
			want: with(glNoteIssue(t), func(e *patchgate.Event) {
				e.Name, e.Action = "Confidential Note Hook", "edited"
			})},
		{name: "note from an older GitLab without action", event: "Note Hook", file: "gitlab/note_issue.json",
			mutate: func(m map[string]any) { setPath(m, "object_attributes.action", nil) },
			want:   glNoteIssue(t)},
		{name: "system note", event: "Note Hook", file: "gitlab/note_issue.json",
			mutate: func(m map[string]any) { setPath(m, "object_attributes.system", true) }, ignored: "system notes"},
		{name: "note on a snippet", event: "Note Hook", file: "gitlab/note_snippet.json", ignored: `comments on "Snippet" are not used`},
		{name: "note on something new", event: "Note Hook", file: "gitlab/note_issue.json",
			mutate: func(m map[string]any) { setPath(m, "object_attributes.noteable_type", "Epic") }, ignored: `comments on "Epic"`},
		{name: "note header on an issue body", event: "Note Hook", file: issue, code: patchgate.EINVALID},
		{name: "emoji", event: "Emoji Hook", file: "gitlab/emoji_note_issue.json", ignored: `event "Emoji Hook" is not used`},
		{name: "truncated", event: "Merge Request Hook", raw: `{"object_kind":"merge_request",`, code: patchgate.EINVALID},
	}
	runParseCases(t, ParseGitLab, tests)
}

func TestGitLabTime(t *testing.T) {
	want := mustTime(t, "2013-12-03T17:23:34Z")
	tests := []struct {
		in   string
		want time.Time
		code string
	}{
		{"2013-12-03T17:23:34Z", want, ""},
		{"2013-12-03 17:23:34 UTC", want, ""},
		{"2013-12-03T19:23:34+02:00", want, ""},
		{"2013-12-03 19:23:34 +0200", want, ""},
		{"2013-12-03T17:23:34.000Z", want, ""},
		{"2013-12-03 17:23:34.5 UTC", want.Add(500 * time.Millisecond), ""},
		{"", time.Time{}, ""},
		{"2013-12-03 17:23:34 PST", time.Time{}, patchgate.EINVALID}, // never guess a zone's offset
		{"2013-12-03", time.Time{}, patchgate.EINVALID},
		{"yesterday", time.Time{}, patchgate.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := gitlabTime("updated_at", tt.in)
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: got code %q, want %q", err, code, tt.code)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("got %v, want %v in UTC", got, tt.want)
			}
		})
	}
}

// FuzzParseGitLab feeds arbitrary (event, body) pairs to ParseGitLab: it must
// not panic, and every result must keep the contract checkResult states.
// Seeds: a few recorded payloads here, minimised edge cases in
// testdata/fuzz/FuzzParseGitLab.
func FuzzParseGitLab(f *testing.F) {
	for name, event := range map[string]string{
		"merge_request.json":      "Merge Request Hook",
		"push.json":               "Push Hook",
		"issue.json":              "Issue Hook",
		"note_issue.json":         "Note Hook",
		"note_merge_request.json": "Note Hook",
		"note_commit.json":        "Confidential Note Hook",
		"tag_push.json":           "Tag Push Hook",
	} {
		body, err := os.ReadFile(filepath.Join("testdata", "gitlab", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(event, body)
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		ev, err := ParseGitLab(event, body)
		checkResult(t, ev, err)
		checkPeek(t, patchgate.GitLab, event, body, ev, err)
	})
}

func BenchmarkParseGitLabMergeRequest(b *testing.B) {
	body := MustReadFixture(b, "gitlab/merge_request.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseGitLab("Merge Request Hook", body); err != nil {
			b.Fatal(err)
		}
	}
}
