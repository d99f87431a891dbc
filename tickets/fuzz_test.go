package tickets

import (
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// FuzzExtract checks the invariants callers rely on for any text: no panic, only
// valid and distinct tickets, Text taken from the input, at most MaxReferences,
// and the same answer twice. The seeds live in testdata/fuzz/FuzzExtract.
func FuzzExtract(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string, gitlab bool) {
		ctx := githubCtx
		if gitlab {
			ctx = gitlabCtx
		}
		got := Extract(ctx, text)
		checkReferences(t, ctx, text, got)
		checkEvidence(t, ctx, got)
		if again := Extract(ctx, text); !slices.Equal(got, again) {
			t.Fatalf("got %s, then %s: want the same answer twice", format(got), format(again))
		}
		if merged := Dedupe(got, got); !slices.Equal(merged, got) {
			t.Fatalf("Dedupe of distinct references got %s, want %s", format(merged), format(got))
		}
		branch := ExtractBranch(ctx, text)
		checkReferences(t, ctx, text, branch)
		for _, r := range branch {
			if r.Kind != patchgate.LinkRelates {
				t.Fatalf("branch reference %s is %s, want relates", r.Key, r.Kind)
			}
		}
	})
}

func checkReferences(t *testing.T, ctx patchgate.ReferenceContext, text string, refs []patchgate.Reference) {
	t.Helper()
	if len(refs) > MaxReferences {
		t.Fatalf("got %d references, want at most %d", len(refs), MaxReferences)
	}
	seen := make(map[refID]bool)
	for _, r := range refs {
		if err := r.Kind.Validate(); err != nil {
			t.Fatalf("reference %s: %v", r.Key, err)
		}
		if r.Text == "" || !strings.Contains(text, r.Text) {
			t.Fatalf("reference %s: got text %q, want a part of the input", r.Key, r.Text)
		}
		switch r.Tracker {
		case patchgate.TrackerExternal:
			prefix, _, _ := strings.Cut(r.Key, "-")
			if !patchgate.ValidExternalKey(r.Key) || !slices.Contains(normalizeKeys(ctx.Keys), prefix) {
				t.Fatalf("got external key %q, want a valid key of a configured prefix", r.Key)
			}
			if r.Repo != "" || r.Number != 0 {
				t.Fatalf("external key %q: got repo %q number %d, want neither", r.Key, r.Repo, r.Number)
			}
		case patchgate.TrackerGitHub, patchgate.TrackerGitLab:
			if r.Number <= 0 || !strings.Contains(r.Repo, "/") || patchgate.ValidateRepoName(r.Repo) != nil ||
				r.Key != patchgate.ForgeIssueKey(r.Repo, r.Number) {
				t.Fatalf("got forge issue %+v, want a positive number, a valid repository and its key", r)
			}
		default:
			t.Fatalf("got tracker %q, want github, gitlab or external", r.Tracker)
		}
		id := refID{r.Tracker, strings.ToLower(r.Key)}
		if seen[id] {
			t.Fatalf("got %s twice, want each ticket once", r.Key)
		}
		seen[id] = true
	}
}

// checkEvidence asserts that each reference's Text alone gives the same ticket
// with the same kind: the provenance a link shows must justify it.
func checkEvidence(t *testing.T, ctx patchgate.ReferenceContext, refs []patchgate.Reference) {
	t.Helper()
	for _, r := range refs {
		alone := Extract(ctx, r.Text)
		if len(alone) == MaxReferences {
			continue // a list longer than the cap may drop r
		}
		i := slices.IndexFunc(alone, func(a patchgate.Reference) bool {
			return a.Tracker == r.Tracker && strings.EqualFold(a.Key, r.Key)
		})
		if i < 0 || alone[i].Kind != r.Kind {
			t.Fatalf("reference %s %s from text %q: alone the text gives %s", r.Kind, r.Key, r.Text, format(alone))
		}
	}
}
