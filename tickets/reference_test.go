package tickets

import (
	"fmt"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestExtractExternalKeys(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "title key", ctx: githubCtx, text: "PAY-123: fix rounding", want: []patchgate.Reference{ext("PAY-123", relates, "PAY-123")}},
		{name: "lower case is canonicalised", ctx: githubCtx, text: "see pay-123", want: []patchgate.Reference{ext("PAY-123", relates, "pay-123")}},
		{name: "configured lower-case prefix", ctx: patchgate.ReferenceContext{Keys: []string{"pay"}}, text: "PAY-7", want: []patchgate.Reference{ext("PAY-7", relates, "PAY-7")}},
		{name: "two keys in order", ctx: githubCtx, text: "OPS-2 and PAY-1", want: []patchgate.Reference{ext("OPS-2", relates, "OPS-2"), ext("PAY-1", relates, "PAY-1")}},
		{name: "unconfigured prefix", ctx: githubCtx, text: "JIRA-123 ABC-1", want: nil},
		{name: "inside a word", ctx: githubCtx, text: "XPAY-1 PAY_X-1 _PAY-1", want: nil},
		{name: "number glued to letters", ctx: githubCtx, text: "PAY-123abc PAY-1_2", want: nil},
		{name: "zero", ctx: githubCtx, text: "PAY-0", want: nil},
		{name: "leading zero", ctx: githubCtx, text: "PAY-0123", want: nil},
		{name: "ten digits", ctx: githubCtx, text: "PAY-1234567890", want: nil},
		{name: "nine digits", ctx: githubCtx, text: "PAY-123456789", want: []patchgate.Reference{ext("PAY-123456789", relates, "PAY-123456789")}},
		{name: "punctuation around", ctx: githubCtx, text: "(PAY-1), [PAY-2]. “PAY-3”", want: []patchgate.Reference{ext("PAY-1", relates, "PAY-1"), ext("PAY-2", relates, "PAY-2"), ext("PAY-3", relates, "PAY-3")}},
		{name: "dash before", ctx: githubCtx, text: "hotfix-PAY-9-rounding", want: []patchgate.Reference{ext("PAY-9", relates, "PAY-9")}},
		{name: "tracker URL", ctx: githubCtx, text: "https://jira.example.com/browse/PAY-77", want: []patchgate.Reference{ext("PAY-77", relates, "PAY-77")}},
		{name: "no dash", ctx: githubCtx, text: "PAY 1 PAY1 PAY--1", want: nil},
		{name: "invalid configured prefix ignored", ctx: patchgate.ReferenceContext{Keys: []string{"1X", "", "A B"}}, text: "1X-1 A B-1", want: nil},
		{name: "keys without a forge", ctx: patchgate.ReferenceContext{Keys: []string{"PAY"}}, text: "PAY-5 #4", want: []patchgate.Reference{ext("PAY-5", relates, "PAY-5")}},
	})
}

func TestExtractIssueNumbers(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "github", ctx: githubCtx, text: "see #45", want: []patchgate.Reference{gh("acme/payments", 45, relates, "#45")}},
		{name: "gitlab", ctx: gitlabCtx, text: "see #45", want: []patchgate.Reference{gl("acme/platform/api", 45, relates, "#45")}},
		{name: "start and end of text", ctx: githubCtx, text: "#1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "in parentheses", ctx: githubCtx, text: "(#7).", want: []patchgate.Reference{gh("acme/payments", 7, relates, "#7")}},
		{name: "inside a word", ctx: githubCtx, text: "abc#45 PR#3", want: nil},
		{name: "html entity", ctx: githubCtx, text: "a&#45;b &#46", want: nil},
		{name: "glued to letters", ctx: githubCtx, text: "#45abc #4_", want: nil},
		{name: "zero", ctx: githubCtx, text: "#0", want: nil},
		{name: "leading zero", ctx: githubCtx, text: "#045", want: nil},
		{name: "too long", ctx: githubCtx, text: "#1234567890", want: nil},
		{name: "heading and mention", ctx: githubCtx, text: "##4 @team#5", want: nil},
		{name: "url fragment", ctx: githubCtx, text: "https://example.com/page#45 https://github.com/acme/payments#3", want: nil},
		{name: "no repository in context", ctx: patchgate.ReferenceContext{Forge: patchgate.GitHub}, text: "#4", want: nil},
		{name: "unknown forge", ctx: patchgate.ReferenceContext{Forge: "bitbucket", Repo: "a/b"}, text: "#4 a/b#5", want: nil},
		{name: "hash alone", ctx: githubCtx, text: "# #a #", want: nil},
	})
}

func TestExtractCrossRepository(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "owner/repo", ctx: githubCtx, text: "see acme/billing#12", want: []patchgate.Reference{gh("acme/billing", 12, relates, "acme/billing#12")}},
		{name: "own repo in other case", ctx: githubCtx, text: "Acme/Payments#3", want: []patchgate.Reference{gh("acme/payments", 3, relates, "Acme/Payments#3")}},
		{name: "same ticket as bare", ctx: githubCtx, text: "#3 acme/payments#3", want: []patchgate.Reference{gh("acme/payments", 3, relates, "#3")}},
		{name: "gitlab nested group", ctx: gitlabCtx, text: "group/sub/project#45", want: []patchgate.Reference{gl("group/sub/project", 45, relates, "group/sub/project#45")}},
		{name: "gitlab two segments", ctx: gitlabCtx, text: "group/project#45", want: []patchgate.Reference{gl("group/project", 45, relates, "group/project#45")}},
		{name: "github has no nested groups", ctx: githubCtx, text: "a/b/c#4", want: nil},
		{name: "segment characters", ctx: githubCtx, text: "my-org/repo.name_2#8", want: []patchgate.Reference{gh("my-org/repo.name_2", 8, relates, "my-org/repo.name_2#8")}},
		{name: "empty segment", ctx: gitlabCtx, text: "a//b#1 /a/b#2 a/b/#3", want: nil},
		{name: "dot segments", ctx: gitlabCtx, text: "../etc#1 a/./b#2", want: nil},
		{name: "entity before path", ctx: githubCtx, text: "&a/b#1", want: nil},
	})
}

func TestExtractGitLabMergeRequests(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "bang is a merge request", ctx: gitlabCtx, text: "see !12 and group/proj!3", want: nil},
		{name: "closing keyword before a merge request", ctx: gitlabCtx, text: "Closes !12", want: nil},
		{name: "issue next to a merge request", ctx: gitlabCtx, text: "!12 #13", want: []patchgate.Reference{gl("acme/platform/api", 13, relates, "#13")}},
		{name: "merge request url", ctx: gitlabCtx, text: "https://gitlab.example.com/acme/platform/api/-/merge_requests/5", want: nil},
	})
}

func TestExtractURLs(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "github issue", ctx: githubCtx, text: "https://github.com/acme/payments/issues/45",
			want: []patchgate.Reference{gh("acme/payments", 45, relates, "https://github.com/acme/payments/issues/45")}},
		{name: "github other repo over http", ctx: githubCtx, text: "<http://github.com/acme/billing/issues/9>",
			want: []patchgate.Reference{gh("acme/billing", 9, relates, "http://github.com/acme/billing/issues/9")}},
		{name: "comment anchor", ctx: githubCtx, text: "https://github.com/acme/payments/issues/45#issuecomment-1",
			want: []patchgate.Reference{gh("acme/payments", 45, relates, "https://github.com/acme/payments/issues/45")}},
		{name: "markdown link", ctx: githubCtx, text: "[#45](https://github.com/acme/payments/issues/45)",
			want: []patchgate.Reference{gh("acme/payments", 45, relates, "#45")}},
		{name: "gitlab dash form", ctx: gitlabCtx, text: "https://gitlab.example.com/group/sub/proj/-/issues/12",
			want: []patchgate.Reference{gl("group/sub/proj", 12, relates, "https://gitlab.example.com/group/sub/proj/-/issues/12")}},
		{name: "gitlab old form", ctx: gitlabCtx, text: "https://gitlab.example.com/group/proj/issues/12",
			want: []patchgate.Reference{gl("group/proj", 12, relates, "https://gitlab.example.com/group/proj/issues/12")}},
		{name: "gitlab host with port", ctx: gitlabCtx, text: "HTTPS://GitLab.Example.com:8443/acme/platform/api/-/issues/3.",
			want: []patchgate.Reference{gl("acme/platform/api", 3, relates, "HTTPS://GitLab.Example.com:8443/acme/platform/api/-/issues/3")}},
		{name: "gitlab url in a github change", ctx: githubCtx, text: "https://gitlab.example.com:8443/g/p/-/issues/4",
			want: []patchgate.Reference{gl("g/p", 4, relates, "https://gitlab.example.com:8443/g/p/-/issues/4")}},
		{name: "project named issues", ctx: gitlabCtx, text: "https://gitlab.example.com/g/issues/issues/5",
			want: []patchgate.Reference{gl("g/issues", 5, relates, "https://gitlab.example.com/g/issues/issues/5")}},
		{name: "other host", ctx: githubCtx, text: "https://evil.example.com/acme/payments/issues/45", want: nil},
		{name: "host without the configured port", ctx: githubCtx, text: "https://gitlab.example.com/g/p/-/issues/4", want: nil},
		{name: "pull request", ctx: githubCtx, text: "https://github.com/acme/payments/pull/45", want: nil},
		{name: "github nested path", ctx: githubCtx, text: "https://github.com/a/b/c/issues/4", want: nil},
		{name: "issue list", ctx: githubCtx, text: "https://github.com/acme/payments/issues/ https://github.com/acme/payments/issues", want: nil},
		{name: "owner only", ctx: githubCtx, text: "https://github.com/acme/issues/4", want: nil},
		{name: "other dash page", ctx: gitlabCtx, text: "https://gitlab.example.com/g/p/-/blob/issues/4", want: nil},
		{name: "number glued to letters", ctx: githubCtx, text: "https://github.com/a/b/issues/4x", want: nil},
		{name: "no scheme", ctx: githubCtx, text: "github.com/acme/payments/issues/45", want: nil},
		{name: "ftp", ctx: githubCtx, text: "ftp://github.com/acme/payments/issues/45", want: nil},
	})
}

func TestExtractClosingKeywords(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "fixes", ctx: githubCtx, text: "Fixes #45", want: []patchgate.Reference{gh("acme/payments", 45, fixes, "Fixes #45")}},
		{name: "any case with colon", ctx: githubCtx, text: "RESOLVED: #45", want: []patchgate.Reference{gh("acme/payments", 45, fixes, "RESOLVED: #45")}},
		{name: "every github keyword", ctx: githubCtx, text: "close #1 closes #2 closed #3 fix #4 fixes #5 fixed #6 resolve #7 resolves #8 resolved #9",
			want: []patchgate.Reference{
				gh("acme/payments", 1, fixes, "close #1"), gh("acme/payments", 2, fixes, "closes #2"), gh("acme/payments", 3, fixes, "closed #3"),
				gh("acme/payments", 4, fixes, "fix #4"), gh("acme/payments", 5, fixes, "fixes #5"), gh("acme/payments", 6, fixes, "fixed #6"),
				gh("acme/payments", 7, fixes, "resolve #7"), gh("acme/payments", 8, fixes, "resolves #8"), gh("acme/payments", 9, fixes, "resolved #9"),
			}},
		{name: "gitlab words on github", ctx: githubCtx, text: "implements #1 closing #2 fixing #3 resolving #4",
			want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1"), gh("acme/payments", 2, relates, "#2"), gh("acme/payments", 3, relates, "#3"), gh("acme/payments", 4, relates, "#4")}},
		{name: "gitlab words on gitlab", ctx: gitlabCtx, text: "Implements #1, implemented #2 implementing #3 implement #4 closing #5 fixing #6 resolving #7",
			want: []patchgate.Reference{
				gl("acme/platform/api", 1, fixes, "Implements #1"), gl("acme/platform/api", 2, fixes, "implemented #2"), gl("acme/platform/api", 3, fixes, "implementing #3"),
				gl("acme/platform/api", 4, fixes, "implement #4"), gl("acme/platform/api", 5, fixes, "closing #5"), gl("acme/platform/api", 6, fixes, "fixing #6"),
				gl("acme/platform/api", 7, fixes, "resolving #7"),
			}},
		{name: "github words on gitlab", ctx: gitlabCtx, text: "Fixes #1", want: []patchgate.Reference{gl("acme/platform/api", 1, fixes, "Fixes #1")}},
		{name: "external key", ctx: githubCtx, text: "Fixes PAY-123", want: []patchgate.Reference{ext("PAY-123", fixes, "Fixes PAY-123")}},
		{name: "cross repository", ctx: githubCtx, text: "closes acme/billing#2", want: []patchgate.Reference{gh("acme/billing", 2, fixes, "closes acme/billing#2")}},
		{name: "url", ctx: githubCtx, text: "Fixes https://github.com/acme/payments/issues/4",
			want: []patchgate.Reference{gh("acme/payments", 4, fixes, "Fixes https://github.com/acme/payments/issues/4")}},
		{name: "list", ctx: githubCtx, text: "Fixes #1, #2 and PAY-3",
			want: []patchgate.Reference{gh("acme/payments", 1, fixes, "Fixes #1"), gh("acme/payments", 2, fixes, "Fixes #1, #2"), ext("PAY-3", fixes, "Fixes #1, #2 and PAY-3")}},
		{name: "oxford comma and newline", ctx: githubCtx, text: "fixes #1,#2, and\n#3",
			want: []patchgate.Reference{gh("acme/payments", 1, fixes, "fixes #1"), gh("acme/payments", 2, fixes, "fixes #1,#2"), gh("acme/payments", 3, fixes, "fixes #1,#2, and\n#3")}},
		{name: "list ends at other words", ctx: githubCtx, text: "Fixes #1 see #2, #3",
			want: []patchgate.Reference{gh("acme/payments", 1, fixes, "Fixes #1"), gh("acme/payments", 2, relates, "#2"), gh("acme/payments", 3, relates, "#3")}},
		{name: "space alone is no list", ctx: githubCtx, text: "Fixes #1 #2", want: []patchgate.Reference{gh("acme/payments", 1, fixes, "Fixes #1"), gh("acme/payments", 2, relates, "#2")}},
		{name: "and needs spaces", ctx: githubCtx, text: "Fixes #1 and#2 #3andy", want: []patchgate.Reference{gh("acme/payments", 1, fixes, "Fixes #1")}},
		{name: "keyword needs whitespace", ctx: githubCtx, text: "Fixes#1 fixes:#2", want: []patchgate.Reference{gh("acme/payments", 2, relates, "#2")}},
		{name: "keyword inside a word", ctx: githubCtx, text: "prefixes #1 unfixed #2 fix_ #3",
			want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1"), gh("acme/payments", 2, relates, "#2"), gh("acme/payments", 3, relates, "#3")}},
		{name: "keyword after punctuation", ctx: githubCtx, text: "(fixes #1) auto-fixes #2",
			want: []patchgate.Reference{gh("acme/payments", 1, fixes, "fixes #1"), gh("acme/payments", 2, fixes, "fixes #2")}},
		{name: "other words between", ctx: githubCtx, text: "Fixes bug #1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "gitlab issue word", ctx: gitlabCtx, text: "Closes issue #1 and issues #2",
			want: []patchgate.Reference{gl("acme/platform/api", 1, fixes, "Closes issue #1"), gl("acme/platform/api", 2, fixes, "Closes issue #1 and issues #2")}},
		{name: "issue word only on gitlab", ctx: githubCtx, text: "Closes issue #1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "fixes wins over an earlier mention", ctx: githubCtx, text: "Related to #4. Fixes #4",
			want: []patchgate.Reference{gh("acme/payments", 4, fixes, "Fixes #4")}},
		{name: "first fixes wins over a later one", ctx: githubCtx, text: "fix PAY-1 then fixes pay-1",
			want: []patchgate.Reference{ext("PAY-1", fixes, "fix PAY-1")}},
		{name: "keyword on the previous line", ctx: githubCtx, text: "Fixes:\n  #5", want: []patchgate.Reference{gh("acme/payments", 5, fixes, "Fixes:\n  #5")}},
		{name: "keyword of a key list", ctx: githubCtx, text: "Resolves PAY-1, OPS-2", want: []patchgate.Reference{ext("PAY-1", fixes, "Resolves PAY-1"), ext("OPS-2", fixes, "Resolves PAY-1, OPS-2")}},
	})
}

func TestExtractMarkdown(t *testing.T) {
	runExtract(t, []extractCase{
		{name: "fenced code", ctx: githubCtx, text: "before #1\n```go\n// Fixes #2 PAY-3\n```\nafter #4",
			want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1"), gh("acme/payments", 4, relates, "#4")}},
		{name: "tilde fence", ctx: githubCtx, text: "~~~\n#2\n~~~~\n#4", want: []patchgate.Reference{gh("acme/payments", 4, relates, "#4")}},
		{name: "shorter fence does not close", ctx: githubCtx, text: "````\n```\n#2\n````\n#4", want: []patchgate.Reference{gh("acme/payments", 4, relates, "#4")}},
		{name: "unclosed fence runs to the end", ctx: githubCtx, text: "#1\n```\n#2\n#3", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "indented fence", ctx: githubCtx, text: "   ```\n#2\n   ```\n#4", want: []patchgate.Reference{gh("acme/payments", 4, relates, "#4")}},
		{name: "backticks in one line are inline code", ctx: githubCtx, text: "```#2``` #4", want: []patchgate.Reference{gh("acme/payments", 4, relates, "#4")}},
		{name: "inline code", ctx: githubCtx, text: "run `fix #2` for PAY-3 and `` a ` #5 `` #6",
			want: []patchgate.Reference{ext("PAY-3", relates, "PAY-3"), gh("acme/payments", 6, relates, "#6")}},
		{name: "inline code across lines", ctx: githubCtx, text: "a `b\n#2` #3", want: []patchgate.Reference{gh("acme/payments", 3, relates, "#3")}},
		{name: "inline code not across paragraphs", ctx: githubCtx, text: "a ` #1\n\n#2 `", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1"), gh("acme/payments", 2, relates, "#2")}},
		{name: "lone backtick", ctx: githubCtx, text: "it`s #1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "code breaks a keyword", ctx: githubCtx, text: "Fixes `x` #1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "quoted reply", ctx: githubCtx, text: "> Fixes #1\n   > PAY-2\nthanks, #3", want: []patchgate.Reference{gh("acme/payments", 3, relates, "#3")}},
		{name: "html comment block", ctx: githubCtx, text: "<!-- Please write\nFixes #123\n-->\nFixes #4",
			want: []patchgate.Reference{gh("acme/payments", 4, fixes, "Fixes #4")}},
		{name: "inline html comment", ctx: githubCtx, text: "see <!-- #1 --> #2", want: []patchgate.Reference{gh("acme/payments", 2, relates, "#2")}},
		{name: "unclosed inline comment", ctx: githubCtx, text: "a <!-- #1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "fence inside comment", ctx: githubCtx, text: "<!--\n```\n-->\n#1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "four-space indent is text", ctx: githubCtx, text: "    > #1", want: []patchgate.Reference{gh("acme/payments", 1, relates, "#1")}},
		{name: "crlf", ctx: githubCtx, text: "```\r\n#1\r\n```\r\nFixes #2\r\n", want: []patchgate.Reference{gh("acme/payments", 2, fixes, "Fixes #2")}},
	})
}

func TestExtractLimits(t *testing.T) {
	var many strings.Builder
	for i := 1; i <= 150; i++ {
		fmt.Fprintf(&many, "#%d ", i)
	}
	many.WriteString("Fixes #100 Fixes #101")
	got := Extract(githubCtx, many.String())
	if len(got) != MaxReferences {
		t.Fatalf("got %d references, want %d", len(got), MaxReferences)
	}
	if got[0].Number != 1 || got[99].Number != 100 {
		t.Errorf("got first %d and last %d, want 1 and 100", got[0].Number, got[99].Number)
	}
	if got[99].Kind != fixes {
		t.Errorf("got #100 %s, want fixes: a later keyword still upgrades a kept reference", got[99].Kind)
	}

	long := strings.Repeat("a ", MaxTextBytes/2-2) + "PAY-12345"
	if got := Extract(githubCtx, long); len(got) != 0 {
		t.Errorf("got %s from a key cut at the limit, want none", format(got))
	}
	if got := Extract(githubCtx, "PAY-1 "+long); len(got) != 1 {
		t.Errorf("got %s, want PAY-1 only", format(got))
	}
}

func TestExtractEmpty(t *testing.T) {
	if got := Extract(githubCtx, ""); got != nil {
		t.Errorf("got %s, want nil", format(got))
	}
	if got := Extract(patchgate.ReferenceContext{}, "Fixes #1 PAY-2 a/b#3 https://github.com/a/b/issues/4"); got != nil {
		t.Errorf("got %s with an empty context, want nil", format(got))
	}
}

func TestClosingKeywords(t *testing.T) {
	tests := []struct {
		name  string
		forge patchgate.Forge
		want  int
	}{
		{name: "github", forge: patchgate.GitHub, want: 9},
		{name: "gitlab", forge: patchgate.GitLab, want: 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words := ClosingKeywords(tt.forge)
			if len(words) != tt.want {
				t.Errorf("got %d keywords, want %d", len(words), tt.want)
			}
			for _, w := range words {
				for _, form := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
					if !isClosingKeyword(tt.forge, form) {
						t.Errorf("got %q not a keyword, want one", form)
					}
				}
			}
		})
	}
	if isClosingKeyword(patchgate.GitHub, "implements") {
		t.Errorf("got implements a GitHub keyword, want only GitLab")
	}
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		name string
		in   [][]patchgate.Reference
		want []patchgate.Reference
	}{
		{name: "nothing", in: nil, want: nil},
		{name: "order of first appearance", in: [][]patchgate.Reference{
			{ext("PAY-1", relates, "PAY-1")},
			{gh("acme/payments", 2, relates, "#2"), ext("PAY-1", relates, "pay-1")},
		}, want: []patchgate.Reference{ext("PAY-1", relates, "PAY-1"), gh("acme/payments", 2, relates, "#2")}},
		{name: "fixes wins and brings its text", in: [][]patchgate.Reference{
			{ext("PAY-1", relates, "PAY-1")},
			{ext("PAY-1", fixes, "Fixes PAY-1")},
			{ext("PAY-1", relates, "pay-1")},
		}, want: []patchgate.Reference{ext("PAY-1", fixes, "Fixes PAY-1")}},
		{name: "repository case", in: [][]patchgate.Reference{
			{gh("Acme/Billing", 2, relates, "Acme/Billing#2")},
			{gh("acme/billing", 2, fixes, "Fixes acme/billing#2")},
		}, want: []patchgate.Reference{gh("Acme/Billing", 2, fixes, "Fixes acme/billing#2")}},
		{name: "trackers differ", in: [][]patchgate.Reference{
			{gh("a/b", 1, relates, "#1"), gl("a/b", 1, relates, "#1")},
		}, want: []patchgate.Reference{gh("a/b", 1, relates, "#1"), gl("a/b", 1, relates, "#1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Dedupe(tt.in...); !equalRefs(got, tt.want) {
				t.Errorf("got %s, want %s", format(got), format(tt.want))
			}
		})
	}
}

func equalRefs(a, b []patchgate.Reference) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
