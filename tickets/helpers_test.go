package tickets

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

var (
	githubCtx = patchgate.ReferenceContext{
		Forge: patchgate.GitHub,
		Repo:  "acme/payments",
		Keys:  []string{"PAY", "OPS"},
		Hosts: []string{"github.com", "gitlab.example.com:8443"},
	}
	gitlabCtx = patchgate.ReferenceContext{
		Forge: patchgate.GitLab,
		Repo:  "acme/platform/api",
		Keys:  []string{"OPS"},
		Hosts: []string{"gitlab.example.com", "gitlab.example.com:8443"},
	}
)

// extractCase is one row of the Extract tables.
type extractCase struct {
	name string
	ctx  patchgate.ReferenceContext
	text string
	want []patchgate.Reference
}

func runExtract(t *testing.T, tests []extractCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.ctx, tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Extract(%q)\ngot  %s\nwant %s", tt.text, format(got), format(tt.want))
			}
		})
	}
}

func format(refs []patchgate.Reference) string {
	if len(refs) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, r := range refs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "{%s %s repo=%q n=%d %s %q}", r.Tracker, r.Key, r.Repo, r.Number, r.Kind, r.Text)
	}
	return b.String()
}

func ext(key string, kind patchgate.LinkKind, text string) patchgate.Reference {
	return patchgate.Reference{Tracker: patchgate.TrackerExternal, Key: key, Kind: kind, Text: text}
}

func gh(repo string, n int, kind patchgate.LinkKind, text string) patchgate.Reference {
	return issue(patchgate.TrackerGitHub, repo, n, kind, text)
}

func gl(repo string, n int, kind patchgate.LinkKind, text string) patchgate.Reference {
	return issue(patchgate.TrackerGitLab, repo, n, kind, text)
}

func issue(t patchgate.Tracker, repo string, n int, kind patchgate.LinkKind, text string) patchgate.Reference {
	return patchgate.Reference{Tracker: t, Key: patchgate.ForgeIssueKey(repo, n), Repo: repo, Number: n, Kind: kind, Text: text}
}

const (
	fixes   = patchgate.LinkFixes
	relates = patchgate.LinkRelates
)
