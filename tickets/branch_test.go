package tickets

import (
	"slices"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestExtractBranch(t *testing.T) {
	tests := []struct {
		name   string
		ctx    patchgate.ReferenceContext
		branch string
		want   []patchgate.Reference
	}{
		// Configured keys.
		{name: "key after a slash", ctx: githubCtx, branch: "fix/PAY-123-rounding", want: []patchgate.Reference{ext("PAY-123", relates, "PAY-123")}},
		{name: "key alone", ctx: githubCtx, branch: "PAY-123", want: []patchgate.Reference{ext("PAY-123", relates, "PAY-123")}},
		{name: "lower-case key", ctx: githubCtx, branch: "pay-123-x", want: []patchgate.Reference{ext("PAY-123", relates, "pay-123")}},
		{name: "key after underscore", ctx: githubCtx, branch: "feature_PAY-1_thing", want: []patchgate.Reference{ext("PAY-1", relates, "PAY-1")}},
		{name: "prefix with underscore", ctx: patchgate.ReferenceContext{Keys: []string{"MY_PROJ"}}, branch: "MY_PROJ-4", want: []patchgate.Reference{ext("MY_PROJ-4", relates, "MY_PROJ-4")}},
		{name: "two keys", ctx: githubCtx, branch: "PAY-1+OPS-2", want: []patchgate.Reference{ext("PAY-1", relates, "PAY-1"), ext("OPS-2", relates, "OPS-2")}},
		{name: "key inside a word", ctx: githubCtx, branch: "XPAY-1 PAY-1x", want: nil},
		{name: "unconfigured key", ctx: githubCtx, branch: "fix/JIRA-1", want: nil},
		{name: "zero key", ctx: githubCtx, branch: "PAY-0-x PAY-01", want: nil},
		// Issue-number branches.
		{name: "gitlab issue branch", ctx: gitlabCtx, branch: "45-fix-thing", want: []patchgate.Reference{gl("acme/platform/api", 45, relates, "45")}},
		{name: "issue branch after a slash", ctx: githubCtx, branch: "fix/45-thing", want: []patchgate.Reference{gh("acme/payments", 45, relates, "45")}},
		{name: "slug starting with a digit", ctx: githubCtx, branch: "45-2fa-support", want: []patchgate.Reference{gh("acme/payments", 45, relates, "45")}},
		{name: "issue word", ctx: githubCtx, branch: "issue-45", want: []patchgate.Reference{gh("acme/payments", 45, relates, "issue-45")}},
		{name: "issue word forms", ctx: githubCtx, branch: "fix/Issues_4-x/issue/5/issue6", want: []patchgate.Reference{
			gh("acme/payments", 4, relates, "Issues_4"), gh("acme/payments", 5, relates, "issue/5"), gh("acme/payments", 6, relates, "issue6")}},
		{name: "key and issue", ctx: githubCtx, branch: "12-PAY-3-fix", want: []patchgate.Reference{gh("acme/payments", 12, relates, "12"), ext("PAY-3", relates, "PAY-3")}},
		{name: "same issue twice", ctx: githubCtx, branch: "45-x/issue-45", want: []patchgate.Reference{gh("acme/payments", 45, relates, "45")}},
		{name: "bare number", ctx: githubCtx, branch: "release/2024", want: nil},
		{name: "only a number", ctx: githubCtx, branch: "45", want: nil},
		{name: "date", ctx: githubCtx, branch: "2024-01-hotfix", want: nil},
		{name: "version", ctx: githubCtx, branch: "release/1.2.3", want: nil},
		{name: "trailing dash", ctx: githubCtx, branch: "45-", want: nil},
		{name: "number inside a segment", ctx: githubCtx, branch: "fix-45-thing v2-x", want: nil},
		{name: "leading zero", ctx: githubCtx, branch: "045-x issue-0", want: nil},
		{name: "issue word glued", ctx: githubCtx, branch: "myissue-4 issue-4x", want: nil},
		{name: "dependabot", ctx: githubCtx, branch: "dependabot/npm_and_yarn/lodash-4.17.21", want: nil},
		{name: "no repository", ctx: patchgate.ReferenceContext{Forge: patchgate.GitHub, Keys: []string{"PAY"}}, branch: "45-x-PAY-1", want: []patchgate.Reference{ext("PAY-1", relates, "PAY-1")}},
		{name: "empty", ctx: githubCtx, branch: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExtractBranch(tt.ctx, tt.branch)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ExtractBranch(%q)\ngot  %s\nwant %s", tt.branch, format(got), format(tt.want))
			}
		})
	}
}
