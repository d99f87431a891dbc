package tickets

import (
	"strings"

	"github.com/patchgate/patchgate"
)

// ExtractBranch finds references in a branch name: configured keys
// (fix/PAY-123-rounding, PAY-123, pay-123-x, feature_PAY-1) and the issue-number
// branches GitHub and GitLab create from an issue ("45-fix-thing", "fix/45-thing")
// or people name by hand ("issue-45", "issues/45"), as issues of ctx.Repo. A
// branch names what it works on, not what it closes, so Kind is always relates.
// Bare numbers ("release/2024", "hotfix/3") and date-like names ("2024-01-hotfix")
// are not issues: they are versions and dates far more often.
func ExtractBranch(ctx patchgate.ReferenceContext, branch string) []patchgate.Reference {
	branch = truncate(branch, MaxTextBytes)
	keys := normalizeKeys(ctx.Keys)
	maxKey := 0
	for _, k := range keys {
		maxKey = max(maxKey, len(k))
	}
	var tracker patchgate.Tracker
	repo := ""
	if ctx.Forge.Validate() == nil && patchgate.ValidateRepoName(ctx.Repo) == nil {
		tracker, repo = patchgate.TrackerOf(ctx.Forge), ctx.Repo
	}
	c := collector{limit: MaxReferences}
	for p := 0; p < len(branch); p++ {
		// In branch names '_', '-', '/' and '.' all separate words.
		if p > 0 && isAlnum(branch[p-1]) {
			continue
		}
		if repo != "" {
			n, end, ok := issueWordNumber(branch, p)
			if !ok && (p == 0 || branch[p-1] == '/') {
				n, end, ok = numberedSlug(branch, p)
			}
			if ok {
				r := forgeIssue(tracker, repo, n)
				r.Kind, r.Text = patchgate.LinkRelates, branch[p:end]
				c.add(r)
				p = end - 1
				continue
			}
		}
		if key, end, ok := branchKey(branch, p, keys, maxKey); ok {
			c.add(patchgate.Reference{Tracker: patchgate.TrackerExternal, Key: key, Kind: patchgate.LinkRelates, Text: branch[p:end]})
			p = end - 1
		}
	}
	return c.refs
}

// branchKey matches a configured key at p. It reads at most the longest prefix,
// so overlapping attempts ("a_a_a_…") cost a constant each.
func branchKey(b string, p int, keys []string, maxKey int) (string, int, bool) {
	e := p
	for e < len(b) && e-p <= maxKey && isWordByte(b[e]) {
		e++
	}
	if e == p || e >= len(b) || b[e] != '-' {
		return "", 0, false
	}
	d := e + 1
	for d < len(b) && isDigit(b[d]) && d-e <= maxNumberDigits+1 {
		d++
	}
	if d == e+1 || d < len(b) && isAlnum(b[d]) {
		return "", 0, false
	}
	key, ok := externalKey(keys, b[p:e], b[e+1:d])
	return key, d, ok
}

// issueWordNumber matches "issue-45", "issues_45", "issue/45" or "issue45" at p.
func issueWordNumber(b string, p int) (n, end int, ok bool) {
	rest := b[p:]
	var w int
	switch {
	case len(rest) >= 6 && strings.EqualFold(rest[:6], "issues"):
		w = 6
	case len(rest) >= 5 && strings.EqualFold(rest[:5], "issue"):
		w = 5
	default:
		return 0, 0, false
	}
	if w < len(rest) && (rest[w] == '-' || rest[w] == '_' || rest[w] == '/') {
		w++
	}
	n, e, ok := branchNumber(rest, w)
	if !ok || e < len(rest) && isAlnum(rest[e]) {
		return 0, 0, false
	}
	return n, p + e, true
}

// numberedSlug matches "45-fix-thing" at the start of a path segment, but not
// "2024-01-hotfix": a slug that starts with a number is a date or a version.
func numberedSlug(b string, p int) (n, end int, ok bool) {
	n, e, ok := branchNumber(b, p)
	if !ok || e >= len(b) || b[e] != '-' {
		return 0, 0, false
	}
	s := e + 1
	for s < len(b) && isDigit(b[s]) {
		s++
	}
	if s == len(b) || b[s] == '-' || b[s] == '/' {
		return 0, 0, false // "45-", "2024-01-x", "2024-01"
	}
	return n, e, true
}

// branchNumber reads 1 to 9 digits without a leading zero at p.
func branchNumber(b string, p int) (n, end int, ok bool) {
	end = p
	for end < len(b) && isDigit(b[end]) && end-p <= maxNumberDigits {
		n = n*10 + int(b[end]-'0')
		end++
	}
	if end == p || end-p > maxNumberDigits || b[p] == '0' {
		return 0, 0, false
	}
	return n, end, true
}
