package forges_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// MustReleaser returns tc's client against ff as a patchgate.Releaser.
func (tc forgeCase) MustReleaser(tb testing.TB, ff *fakeforge.Forge) patchgate.Releaser {
	tb.Helper()
	r, ok := tc.MustClient(tb, ff).(patchgate.Releaser)
	if !ok {
		tb.Fatalf("%s client: got no patchgate.Releaser, want one", tc.name)
	}
	return r
}

// releaseRoutes are the request-log prefixes of tc's reads and writes of tag
// and of releases.
type releaseRoutes struct{ readTag, readRelease, createTag, createRelease, editRelease string }

func (tc forgeCase) releaseRoutes(tag string) releaseRoutes {
	if tc.forge == patchgate.GitHub {
		p := "/api/v3/repos/" + tc.repo
		return releaseRoutes{"GET " + p + "/git/ref/tags/" + tag, "GET " + p + "/releases/tags/" + tag,
			"POST " + p + "/git/refs", "POST " + p + "/releases", "PATCH " + p + "/releases/"}
	}
	p := "/api/v4/projects/" + gitlab.PathEscape(tc.repo)
	// The GitLab client escapes dots too: "v1%2E4%2E2".
	return releaseRoutes{"GET " + p + "/repository/tags/" + gitlab.PathEscape(tag), "GET " + p + "/releases/" + gitlab.PathEscape(tag),
		"POST " + p + "/repository/tags", "POST " + p + "/releases", "PUT " + p + "/releases/"}
}

// releaseFixture is one test's fake forge, client and the release it publishes.
type releaseFixture struct {
	tc     forgeCase
	ff     *fakeforge.Forge
	c      patchgate.Releaser
	routes releaseRoutes
	rel    patchgate.ForgeRelease // Tag, SHA, Name, Notes to publish
	other  string                 // another commit of the repository
}

func MustReleaseFixture(t *testing.T, tc forgeCase, tag string) *releaseFixture {
	t.Helper()
	ff := MustForge(t)
	head, other := sha("release-head"), sha("release-other")
	ff.AddCommit(tc.repo, other, map[string][]byte{"a": []byte("1")}, "first", "dev")
	ff.AddCommit(tc.repo, head, map[string][]byte{"a": []byte("2")}, "fix", "dev", other)
	ff.SetBranch(tc.repo, "main", head)
	return &releaseFixture{
		tc: tc, ff: ff, c: tc.MustReleaser(t, ff), routes: tc.releaseRoutes(tag), other: other,
		rel: patchgate.ForgeRelease{Tag: tag, SHA: head, Name: tag, Notes: "Fixes PAY-123."},
	}
}

// publish publishes fx.rel and fails the test on an error.
func (fx *releaseFixture) MustPublish(t *testing.T) *patchgate.ForgeRelease {
	t.Helper()
	got, err := fx.c.PublishRelease(context.Background(), fx.tc.ref(), fx.rel)
	if err != nil {
		t.Fatalf("PublishRelease: %v", err)
	}
	return got
}

// checkOnForge asserts that the fake holds exactly one tag, at sha, and want
// releases, the last with notes.
func (fx *releaseFixture) checkOnForge(t *testing.T, sha string, releases int, notes string) {
	t.Helper()
	if got := fx.ff.Tags(fx.tc.repo); len(got) != 1 || got[fx.rel.Tag] != sha {
		t.Errorf("tags: got %v, want only %s at %s", got, fx.rel.Tag, sha)
	}
	got := fx.ff.Releases(fx.tc.repo)
	if len(got) != releases {
		t.Fatalf("releases: got %d (%+v), want %d", len(got), got, releases)
	}
	if releases > 0 {
		if r := got[len(got)-1]; r.Tag != fx.rel.Tag || r.Body != notes || r.Name != fx.rel.Name {
			t.Errorf("release: got %+v, want tag %s, name %q, notes %q", r, fx.rel.Tag, fx.rel.Name, notes)
		}
	}
}

// checkWrites asserts how many tag creations, release creations and release
// edits the fake received since the last ResetRequests.
func (fx *releaseFixture) checkWrites(t *testing.T, tags, creates, edits int) {
	t.Helper()
	got := [3]int{count(fx.ff, fx.routes.createTag), count(fx.ff, fx.routes.createRelease), count(fx.ff, fx.routes.editRelease)}
	if want := [3]int{tags, creates, edits}; got != want {
		t.Errorf("writes (create tag, create release, edit release): got %v, want %v; requests %q", got, want, fx.ff.Requests())
	}
	if n := writes(fx.ff); n != tags+creates+edits {
		t.Errorf("all writes: got %d, want %d; requests %q", n, tags+creates+edits, fx.ff.Requests())
	}
}

func TestPublishRelease(t *testing.T) {
	tests := []struct {
		name string
		tag  string
		// setup prepares the forge and may change what is published.
		setup func(t *testing.T, fx *releaseFixture)
		// Writes made by the call under test.
		wantTagWrites, wantCreates, wantEdits int
		wantReleases                          int
		wantNotes                             string // "" means fx.rel.Notes
	}{
		{
			name: "fresh tag and release", tag: "v1.4.2",
			setup:         func(t *testing.T, fx *releaseFixture) {},
			wantTagWrites: 1, wantCreates: 1, wantReleases: 1,
		},
		{
			name: "tag with a slash and a plus", tag: "release/2025.1+build.7",
			setup:         func(t *testing.T, fx *releaseFixture) {},
			wantTagWrites: 1, wantCreates: 1, wantReleases: 1,
		},
		{
			name: "empty name defaults to the tag", tag: "v1.4.2",
			setup:         func(t *testing.T, fx *releaseFixture) { fx.rel.Name = "" },
			wantTagWrites: 1, wantCreates: 1, wantReleases: 1,
		},
		{
			name: "published before: no writes", tag: "v1.4.2",
			setup:        func(t *testing.T, fx *releaseFixture) { fx.MustPublish(t) },
			wantReleases: 1,
		},
		{
			name: "published before with an empty name: no writes", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.rel.Name = ""
				fx.MustPublish(t)
			},
			wantReleases: 1,
		},
		{
			name: "crash between tag and release: only the release is created", tag: "v1.4.2",
			setup:       func(t *testing.T, fx *releaseFixture) { fx.ff.AddTag(fx.tc.repo, fx.rel.Tag, fx.rel.SHA) },
			wantCreates: 1, wantReleases: 1,
		},
		{
			name: "annotated tag at the commit is reused", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.ff.AddAnnotatedTag(fx.tc.repo, fx.rel.Tag, fx.rel.SHA, "signed off")
			},
			wantCreates: 1, wantReleases: 1,
		},
		{
			name: "changed notes are edited in place", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.MustPublish(t)
				fx.rel.Notes = "Fixes PAY-123 and PAY-124."
			},
			wantEdits: 1, wantReleases: 1, wantNotes: "Fixes PAY-123 and PAY-124.",
		},
		{
			name: "notes cleared are edited in place", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.MustPublish(t)
				fx.rel.Notes = ""
			},
			wantEdits: 1, wantReleases: 1, wantNotes: "",
		},
		{
			name: "changed name is edited in place", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.MustPublish(t)
				fx.rel.Name = "1.4.2 (hotfix)"
			},
			wantEdits: 1, wantReleases: 1,
		},
		{
			name: "tag created by a racer after the first read: refused create, then reused", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.ff.AddTag(fx.tc.repo, fx.rel.Tag, fx.rel.SHA)
				fx.ff.FailNextOn(fx.routes.readTag, 1, 404, nil)
			},
			wantTagWrites: 1, wantCreates: 1, wantReleases: 1,
		},
		{
			name: "release created by a racer after the first read: refused create, then edited", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.MustPublish(t)
				fx.rel.Notes = "the racer's notes were older"
				fx.ff.FailNextOn(fx.routes.readRelease, 1, 404, nil)
			},
			wantCreates: 1, wantEdits: 1, wantReleases: 1,
		},
		{
			name: "502 after the forge stored the tag: the retry reads it", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.ff.FailAfterOn(fx.routes.createTag, 1, 502)
			},
			wantTagWrites: 1, wantCreates: 1, wantReleases: 1,
		},
		{
			name: "502 after the forge stored the release: the retry reads it", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.ff.FailAfterOn(fx.routes.createRelease, 1, 502)
			},
			wantTagWrites: 1, wantCreates: 1, wantReleases: 1,
		},
		{
			name: "502 before the forge stored the release: retried", tag: "v1.4.2",
			setup: func(t *testing.T, fx *releaseFixture) {
				fx.ff.FailNextOn(fx.routes.createRelease, 2, 502, nil)
			},
			wantTagWrites: 1, wantCreates: 3, wantReleases: 1,
		},
	}
	for _, tc := range forgeCases {
		for _, tt := range tests {
			t.Run(tc.name+"/"+tt.name, func(t *testing.T) {
				fx := MustReleaseFixture(t, tc, tt.tag)
				tt.setup(t, fx)
				fx.ff.ResetRequests()
				got := fx.MustPublish(t)

				wantName, wantNotes := fx.rel.Name, tt.wantNotes
				if wantName == "" {
					wantName = fx.rel.Tag
				}
				if wantNotes == "" {
					wantNotes = fx.rel.Notes
				}
				if got.Tag != fx.rel.Tag || got.SHA != fx.rel.SHA || got.Name != wantName || got.Notes != wantNotes ||
					got.ID == "" || !strings.HasPrefix(got.URL, fx.ff.URL()+"/"+tc.repo+"/") {
					t.Errorf("release: got %+v, want tag %s at %s, name %q, notes %q, an id and a URL",
						got, fx.rel.Tag, fx.rel.SHA, wantName, wantNotes)
				}
				fx.checkWrites(t, tt.wantTagWrites, tt.wantCreates, tt.wantEdits)
				fx.rel.Name = wantName
				fx.checkOnForge(t, fx.rel.SHA, tt.wantReleases, wantNotes)

				again, err := fx.c.FindRelease(context.Background(), tc.ref(), fx.rel.Tag)
				if err != nil {
					t.Fatalf("FindRelease: %v", err)
				}
				if *again != *got {
					t.Errorf("FindRelease: got %+v, want %+v", again, got)
				}
			})
		}
	}
}

func TestPublishReleaseKeepsIDOnEdit(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v2.0.0")
			first := fx.MustPublish(t)
			fx.rel.Notes = "new notes"
			second := fx.MustPublish(t)
			if second.ID != first.ID || second.URL != first.URL {
				t.Errorf("edited release: got id %s url %s, want id %s url %s", second.ID, second.URL, first.ID, first.URL)
			}
		})
	}
}

func TestPublishReleaseNeverMovesATag(t *testing.T) {
	tests := []struct {
		name  string
		setup func(fx *releaseFixture)
	}{
		{"lightweight tag at another commit", func(fx *releaseFixture) {
			fx.ff.AddTag(fx.tc.repo, fx.rel.Tag, fx.other)
		}},
		{"annotated tag at another commit", func(fx *releaseFixture) {
			fx.ff.AddAnnotatedTag(fx.tc.repo, fx.rel.Tag, fx.other, "old")
		}},
		{"tag created at another commit by a racer after the first read", func(fx *releaseFixture) {
			// The create is refused as a duplicate, so PublishRelease reads the
			// racer's tag and must compare it, not trust its own request.
			fx.ff.AddTag(fx.tc.repo, fx.rel.Tag, fx.other)
			fx.ff.FailNextOn(fx.routes.readTag, 1, 404, nil)
		}},
	}
	for _, tc := range forgeCases {
		for _, tt := range tests {
			t.Run(tc.name+"/"+tt.name, func(t *testing.T) {
				fx := MustReleaseFixture(t, tc, "v1.4.2")
				tt.setup(fx)
				fx.ff.ResetRequests()
				_, err := fx.c.PublishRelease(context.Background(), tc.ref(), fx.rel)
				wantCode(t, err, patchgate.ECONFLICT)
				if !strings.Contains(err.Error(), fx.other) {
					t.Errorf("error: got %q, want it to name the tag's commit %s", err, fx.other)
				}
				if got := fx.ff.Tags(tc.repo); got[fx.rel.Tag] != fx.other {
					t.Errorf("tag: got %s at %s, want it left at %s", fx.rel.Tag, got[fx.rel.Tag], fx.other)
				}
				if got := fx.ff.Releases(tc.repo); len(got) != 0 {
					t.Errorf("releases: got %+v, want none", got)
				}
				if n := count(fx.ff, fx.routes.createRelease) + count(fx.ff, fx.routes.editRelease); n != 0 {
					t.Errorf("release writes: got %d, want 0; requests %q", n, fx.ff.Requests())
				}
			})
		}
	}
}

func TestPublishReleaseRetryAfterForgeError(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v1.4.2")
			// More 502s than the retry budget allows (1 + 4 retries).
			fx.ff.FailNextOn(fx.routes.createRelease, 5, 502, nil)
			_, err := fx.c.PublishRelease(context.Background(), tc.ref(), fx.rel)
			wantCode(t, err, patchgate.EUNAVAILABLE)
			if got := fx.ff.Releases(tc.repo); len(got) != 0 {
				t.Fatalf("releases after the failure: got %+v, want none", got)
			}
			if got := fx.ff.Tags(tc.repo); got[fx.rel.Tag] != fx.rel.SHA {
				t.Fatalf("tag after the failure: got %v, want %s at %s", got, fx.rel.Tag, fx.rel.SHA)
			}

			fx.ff.ResetRequests()
			fx.MustPublish(t)
			fx.checkWrites(t, 0, 1, 0)
			fx.checkOnForge(t, fx.rel.SHA, 1, fx.rel.Notes)
		})
	}
}

func TestPublishReleaseConcurrent(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v1.4.2")
			const n = 8
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				c := tc.MustReleaser(t, fx.ff) // one client per "process"
				wg.Go(func() {
					got, err := c.PublishRelease(context.Background(), tc.ref(), fx.rel)
					errs[i] = err
					if err == nil {
						ids[i] = got.ID
					}
				})
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil || ids[i] != ids[0] {
					t.Errorf("publisher %d: got id %q, error %v; want id %q, no error", i, ids[i], errs[i], ids[0])
				}
			}
			fx.checkOnForge(t, fx.rel.SHA, 1, fx.rel.Notes)
		})
	}
}

func TestPublishReleaseUnknownCommit(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v1.4.2")
			fx.rel.SHA = sha("never pushed")
			_, err := fx.c.PublishRelease(context.Background(), tc.ref(), fx.rel)
			wantCode(t, err, patchgate.ENOTFOUND)
			if got := fx.ff.Tags(tc.repo); len(got) != 0 {
				t.Errorf("tags: got %v, want none", got)
			}
			if got := fx.ff.Releases(tc.repo); len(got) != 0 {
				t.Errorf("releases: got %+v, want none", got)
			}
		})
	}
}

func TestPublishReleaseInvalid(t *testing.T) {
	good := sha("release-head")
	tests := []struct {
		name string
		tag  string
		sha  string
	}{
		{"empty tag", "", good},
		{"space", "v1 2", good},
		{"double dot", "v1..2", good},
		{"leading dash", "-v1", good},
		{"trailing .lock", "v1.lock", good},
		{"component ending .lock", "x.lock/v1", good},
		{"component starting with a dot", "release/.v1", good},
		{"trailing dot", "v1.", good},
		{"trailing slash", "v1/", good},
		{"leading slash", "/v1", good},
		{"double slash", "a//b", good},
		{"colon", "v1:2", good},
		{"caret", "v1^", good},
		{"tilde", "v1~1", good},
		{"question mark", "v1?", good},
		{"star", "v*", good},
		{"bracket", "v[1]", good},
		{"backslash", `v1\2`, good},
		{"at brace", "v1@{1}", good},
		{"at alone", "@", good},
		{"control character", "v1\t", good},
		{"too long", strings.Repeat("v", 201), good},
		{"short sha", "v1", good[:7]},
		{"branch instead of sha", "v1", "main"},
		{"upper-case sha", "v1", strings.ToUpper(good)},
	}
	for _, tc := range forgeCases {
		for _, tt := range tests {
			t.Run(tc.name+"/"+tt.name, func(t *testing.T) {
				ff := MustForge(t)
				c := tc.MustReleaser(t, ff)
				_, err := c.PublishRelease(context.Background(), tc.ref(), patchgate.ForgeRelease{Tag: tt.tag, SHA: tt.sha, Notes: "n"})
				wantCode(t, err, patchgate.EINVALID)
				if got := ff.Requests(); len(got) != 0 {
					t.Errorf("requests: got %q, want none", got)
				}
			})
		}
	}
	for _, tc := range forgeCases {
		t.Run(tc.name+"/other forge's repository", func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustReleaser(t, ff)
			other := patchgate.GitLab
			if tc.forge == patchgate.GitLab {
				other = patchgate.GitHub
			}
			_, err := c.PublishRelease(context.Background(), patchgate.RepoRef{Forge: other, Name: "acme/app"},
				patchgate.ForgeRelease{Tag: "v1", SHA: good})
			wantCode(t, err, patchgate.EINVALID)
			_, err = c.FindRelease(context.Background(), patchgate.RepoRef{Forge: other, Name: "acme/app"}, "v1")
			wantCode(t, err, patchgate.EINVALID)
		})
	}
}

func TestPublishReleaseLongestTag(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v"+strings.Repeat("1", patchgate.MaxTagName-1))
			fx.MustPublish(t)
			fx.checkOnForge(t, fx.rel.SHA, 1, fx.rel.Notes)
		})
	}
}

func TestFindRelease(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v1.4.2")
			ctx := context.Background()
			_, err := fx.c.FindRelease(ctx, tc.ref(), "v1.4.2")
			wantCode(t, err, patchgate.ENOTFOUND)

			fx.ff.AddAnnotatedTag(tc.repo, "v1.4.2", fx.rel.SHA, "annotated")
			want := fx.MustPublish(t)
			got, err := fx.c.FindRelease(ctx, tc.ref(), "v1.4.2")
			if err != nil {
				t.Fatalf("FindRelease: %v", err)
			}
			if *got != *want {
				t.Errorf("FindRelease: got %+v, want %+v", got, want)
			}
			if got.SHA != fx.rel.SHA {
				t.Errorf("SHA through the annotated tag: got %s, want %s", got.SHA, fx.rel.SHA)
			}

			_, err = fx.c.FindRelease(ctx, tc.ref(), "v9.9.9")
			wantCode(t, err, patchgate.ENOTFOUND)
			_, err = fx.c.FindRelease(ctx, tc.ref(), "bad tag")
			wantCode(t, err, patchgate.EINVALID)
			_, err = fx.c.FindRelease(ctx, patchgate.RepoRef{Forge: tc.forge, Name: "acme/missing"}, "v1.4.2")
			wantCode(t, err, patchgate.ENOTFOUND)
		})
	}
}
