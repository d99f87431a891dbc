package tickets

import (
	"strings"
	"testing"
)

// prBody is a ~4 KiB pull request body of the usual shape: a template with
// comments, prose with references, a code block, a checklist and a quote.
var prBody = func() string {
	var b strings.Builder
	b.WriteString("<!-- Thanks for contributing! Link the ticket this fixes, e.g. \"Fixes #123\" or \"Fixes PAY-123\". -->\n")
	b.WriteString("## Summary\n\nFixes #45, PAY-123 and acme/billing#12. Rounding of minor units was wrong when the\n")
	b.WriteString("currency has three decimals; see https://github.com/acme/payments/issues/45 for the report.\n\n")
	for b.Len() < 3000 {
		b.WriteString("The ledger now keeps amounts as integers of the smallest unit and converts at the edges, ")
		b.WriteString("which matches what the `settlement` service expects (see OPS-7 for the rollout plan).\n")
	}
	b.WriteString("\n```go\nfunc round(a int64) int64 { return a } // Fixes #999 is not a claim\n```\n\n")
	b.WriteString("## Checklist\n\n- [x] tests (regression and integration)\n- [x] docs\n- [ ] changelog\n\n")
	b.WriteString("> Reviewer: does this close #46 too?\n\nRelated to #46 and https://jira.example.com/browse/PAY-124.\n")
	for b.Len() < 4096 {
		b.WriteString("More context follows here without any ticket in it at all. ")
	}
	return b.String()
}()

func BenchmarkExtract(b *testing.B) {
	b.SetBytes(int64(len(prBody)))
	b.ReportAllocs()
	for b.Loop() {
		Extract(githubCtx, prBody)
	}
}

// BenchmarkExtractAdversarial feeds MaxTextBytes of input built to make naive
// scanners quadratic; ns/op should stay within a small factor of plain text.
func BenchmarkExtractAdversarial(b *testing.B) {
	cases := []struct{ name, unit string }{
		{"plain", "lorem ipsum "},
		{"hashes", "#1 "},
		{"keys", "PAY-1 "},
		{"long path", "a/"},
		{"path hashes", "a/b#1#"},
		{"backtick runs", "`` ` ``` x "},
		{"comment opens", "<!-- "},
		{"list", "Fixes #1, "},
		{"urls", "https://github.com/a/"},
		{"underscores", "a_"},
	}
	for _, c := range cases {
		text := strings.Repeat(c.unit, MaxTextBytes/len(c.unit))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Extract(githubCtx, text)
				ExtractBranch(githubCtx, text)
			}
		})
	}
}
