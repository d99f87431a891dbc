// Package tickets finds ticket references in what developers write on pull/merge
// requests and commits, so that patchgate can link tickets to changes and say why.
//
// A reference is a configured external key (PAY-123), a forge issue (#45,
// acme/payments#45, group/sub/project#45) or an issue URL on a configured forge
// host. A closing keyword in front ("Fixes #45", "Closes: PAY-1, #2 and #3") turns
// a mention into a claim to fix. The package is pure: no I/O, no state, safe for
// concurrent use.
//
// Deliberate choices, because users read them as promises:
//   - Text inside fenced code blocks, inline code, HTML comments (PR templates
//     hide their examples there) and quoted lines ("> Fixes #1" quotes someone
//     else's words) references nothing: only what the author says counts.
//   - #0, numbers with leading zeros and numbers of more than nine digits are not
//     issues; neither are "abc#45", "&#45;" (an HTML entity), "#45abc" or URL
//     fragments.
//   - A GitHub repository path has exactly two segments, so "a/b/c#4" is an issue
//     reference only on GitLab.
//   - GitLab's "!12" is a merge request, never a ticket.
package tickets

import (
	"strings"

	"github.com/patchgate/patchgate"
)

const (
	// MaxTextBytes bounds the text Extract scans, so one huge body cannot stall a worker.
	MaxTextBytes = 1 << 20
	// MaxReferences bounds the tickets one text yields, so a pasted issue list cannot create hundreds of links.
	MaxReferences = 100
	// maxNumberDigits keeps issue numbers within what ValidExternalKey and an int32 accept.
	maxNumberDigits = 9
)

// Extract finds ticket references in text. It returns each distinct ticket once
// (by Tracker and Key), in order of first appearance; if any occurrence of a
// ticket is preceded by a closing keyword, the reference's Kind is
// patchgate.LinkFixes and its Text is that occurrence, else LinkRelates and the
// first occurrence. Text is the exact matched text, e.g. "Fixes #45" or "PAY-123".
// Texts longer than MaxTextBytes are cut there, and at most MaxReferences
// references are returned.
func Extract(ctx patchgate.ReferenceContext, text string) []patchgate.Reference {
	text = truncate(text, MaxTextBytes)
	s := newScanner(ctx, text)
	maskMarkdown(s.m)
	s.scan()
	return s.out.refs
}

// scanner walks a text once, left to right, so its cost stays linear in the
// text's length whatever the text holds.
type scanner struct {
	text string
	// m is a copy of text in which code, comments and quotes are zeroed, so that
	// nothing is found there; offsets in m and text are the same.
	m     []byte
	forge patchgate.Forge // "" when ctx.Forge is unsupported: no forge issues then
	repo  string          // "" when ctx.Repo is unusable: no bare "#45" then
	keys  []string        // configured external key prefixes, upper-case
	hosts []string        // configured forge hosts, lower-case host[:port]
	out   collector

	// The previous reference, to carry "Fixes #1, #2 and #3" along the list.
	prevEnd   int
	prevFixes bool
	chainFrom int
}

func newScanner(ctx patchgate.ReferenceContext, text string) *scanner {
	s := &scanner{
		text: text,
		m:    []byte(text),
		keys: normalizeKeys(ctx.Keys),
		out:  collector{limit: MaxReferences},
	}
	if ctx.Forge.Validate() == nil {
		s.forge = ctx.Forge
		if patchgate.ValidateRepoName(ctx.Repo) == nil {
			s.repo = ctx.Repo
		}
	}
	for _, h := range ctx.Hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
		if h = strings.TrimRight(h, "/"); h != "" {
			s.hosts = append(s.hosts, h)
		}
	}
	return s
}

// normalizeKeys upper-cases the configured prefixes and drops those no key could
// be made of, so a bad configuration cannot produce invalid tickets.
func normalizeKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		k = strings.ToUpper(strings.TrimSpace(k))
		if patchgate.ValidExternalKey(k + "-1") {
			out = append(out, k)
		}
	}
	return out
}

func (s *scanner) scan() {
	m := s.m
	for i := 0; i < len(m); {
		switch c := m[i]; {
		case c == '#':
			if end, ok := s.bareIssue(i); ok {
				i = end
				continue
			}
			i++
		case isPathByte(c):
			i = s.run(i)
		default:
			i++
		}
	}
}

// run handles a maximal run of path bytes starting at i (a URL scheme, a
// repository path before '#', or words that may be keys) and returns its end.
func (s *scanner) run(i int) int {
	m := s.m
	j := i
	for j < len(m) && isPathByte(m[j]) {
		j++
	}
	if end, ok := s.issueURL(i, j); ok {
		return end
	}
	if j < len(m) && m[j] == '#' && (i == 0 || !blocksIssue(m[i-1])) {
		if end, ok := s.repoIssue(i, j); ok {
			return end
		}
	}
	s.keysIn(i, j)
	return j
}

// bareIssue matches "#45" at i, an issue of the context's repository.
func (s *scanner) bareIssue(i int) (int, bool) {
	if s.repo == "" || i > 0 && (isPathByte(s.m[i-1]) || blocksIssue(s.m[i-1])) {
		return 0, false
	}
	n, end, ok := s.number(i + 1)
	if !ok {
		return 0, false
	}
	s.emit(i, end, forgeIssue(patchgate.TrackerOf(s.forge), s.repo, n))
	return end, true
}

// repoIssue matches "owner/repo#45" where [i,j) is the repository path.
func (s *scanner) repoIssue(i, j int) (int, bool) {
	if s.forge == "" {
		return 0, false
	}
	n, end, ok := s.number(j + 1)
	if !ok {
		return 0, false
	}
	repo := s.text[i:j]
	depth := pathDepth(repo)
	if depth < 2 || s.forge == patchgate.GitHub && depth != 2 || patchgate.ValidateRepoName(repo) != nil {
		return 0, false
	}
	if s.repo != "" && strings.EqualFold(repo, s.repo) {
		repo = s.repo
	}
	s.emit(i, end, forgeIssue(patchgate.TrackerOf(s.forge), repo, n))
	return end, true
}

// keysIn matches configured keys (PAY-123) among the words of [i,j).
func (s *scanner) keysIn(i, j int) {
	if len(s.keys) == 0 {
		return
	}
	m := s.m
	for w := i; w < j; {
		if !isWordByte(m[w]) || w > 0 && isWordByte(m[w-1]) {
			w++
			continue
		}
		e := w
		for e < j && isWordByte(m[e]) {
			e++
		}
		if e < j && m[e] == '-' {
			d := e + 1
			for d < j && isDigit(m[d]) {
				d++
			}
			if d > e+1 && (d == len(m) || !isWordByte(m[d])) {
				if key, ok := externalKey(s.keys, s.text[w:e], s.text[e+1:d]); ok {
					s.emit(w, d, patchgate.Reference{Tracker: patchgate.TrackerExternal, Key: key})
					w = d
					continue
				}
			}
		}
		w = e
	}
}

// externalKey builds the canonical key when prefix is configured (in any case)
// and the result is a key the root package accepts.
func externalKey(keys []string, prefix, num string) (string, bool) {
	for _, k := range keys {
		if len(k) == len(prefix) && strings.EqualFold(k, prefix) {
			key := k + "-" + num
			return key, patchgate.ValidExternalKey(key)
		}
	}
	return "", false
}

// issueURL matches an issue URL on a configured host, where [i,j) is the scheme:
// https://github.com/acme/payments/issues/45 or
// https://gitlab.example.com/group/sub/proj/-/issues/12 (or without "/-").
func (s *scanner) issueURL(i, j int) (int, bool) {
	m := s.m
	if j-i != 4 && j-i != 5 || len(s.hosts) == 0 {
		return 0, false
	}
	scheme := s.text[i:j]
	if !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") ||
		!strings.HasPrefix(s.text[j:], "://") {
		return 0, false
	}
	h := j + 3
	e := h
	for e < len(m) && e-h <= 300 && isHostByte(m[e]) {
		e++
	}
	if e == h || e == len(m) || m[e] != '/' {
		return 0, false
	}
	host := s.text[h:e]
	if !s.knownHost(host) {
		return 0, false
	}
	repoEnd, depth, dash := e, 0, false
	for p := e; p < len(m) && m[p] == '/'; {
		q := p + 1
		for q < len(m) && isSegmentByte(m[q]) {
			q++
		}
		seg := s.text[p+1 : q]
		if seg == "issues" && depth >= 2 && q < len(m) && m[q] == '/' {
			if n, end, ok := s.number(q + 1); ok {
				return s.emitURL(i, end, host, s.text[e+1:repoEnd], depth, dash, n)
			}
		}
		switch {
		case seg == "" || dash:
			// GitLab's "/-/" is followed by the project's page kind; only issues count.
			return 0, false
		case seg == "-":
			dash = true
		default:
			depth++
			repoEnd = q
		}
		p = q
	}
	return 0, false
}

// emitURL records an issue URL. A "/-/" path or more than two segments can only
// be GitLab; github.com is GitHub; any other host is taken to be the context's forge.
func (s *scanner) emitURL(start, end int, host, repo string, depth int, dash bool, n int) (int, bool) {
	github := strings.EqualFold(host, "github.com")
	var tracker patchgate.Tracker
	switch {
	case dash || depth > 2:
		if github {
			return 0, false
		}
		tracker = patchgate.TrackerGitLab
	case github:
		tracker = patchgate.TrackerGitHub
	case s.forge != "":
		tracker = patchgate.TrackerOf(s.forge)
	default:
		return 0, false
	}
	if patchgate.ValidateRepoName(repo) != nil {
		return 0, false
	}
	if s.repo != "" && tracker == patchgate.TrackerOf(s.forge) && strings.EqualFold(repo, s.repo) {
		repo = s.repo
	}
	s.emit(start, end, forgeIssue(tracker, repo, n))
	return end, true
}

func (s *scanner) knownHost(host string) bool {
	for _, h := range s.hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// number reads an issue number at p: 1 to 9 digits without a leading zero, not
// followed by a word byte ("#45abc" is not issue 45).
func (s *scanner) number(p int) (n, end int, ok bool) {
	m := s.m
	end = p
	for end < len(m) && isDigit(m[end]) && end-p <= maxNumberDigits {
		n = n*10 + int(m[end]-'0')
		end++
	}
	if end == p || end-p > maxNumberDigits || m[p] == '0' || end < len(m) && isWordByte(m[end]) {
		return 0, 0, false
	}
	return n, end, true
}

// emit records the reference found at [start,end), deciding whether a closing
// keyword, directly or through a list ("Fixes #1, #2 and #3"), makes it a fix.
func (s *scanner) emit(start, end int, r patchgate.Reference) {
	r.Kind = patchgate.LinkRelates
	from := start
	if kw := s.keywordBefore(start); kw >= 0 {
		r.Kind, from = patchgate.LinkFixes, kw
	} else if s.prevFixes && s.listed(s.prevEnd, start) {
		r.Kind, from = patchgate.LinkFixes, s.chainFrom
	}
	s.prevEnd, s.prevFixes, s.chainFrom = end, r.Kind == patchgate.LinkFixes, from
	r.Text = s.text[from:end]
	s.out.add(r)
}

func forgeIssue(t patchgate.Tracker, repo string, n int) patchgate.Reference {
	return patchgate.Reference{Tracker: t, Key: patchgate.ForgeIssueKey(repo, n), Repo: repo, Number: n}
}

// pathDepth counts the segments of a repository path, or returns 0 when a
// segment is empty.
func pathDepth(p string) int {
	depth := 1
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			if i == 0 || i == len(p)-1 || p[i-1] == '/' {
				return 0
			}
			depth++
		}
	}
	return depth
}

// truncate cuts s to at most n bytes, back to the last whitespace so that a key
// cut in half ("PAY-12|3") does not become another ticket.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	if i := strings.LastIndexAny(s, " \t\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

// isWordByte is what a reference must not touch on either side ("XPAY-1", "abc#45").
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// isSegmentByte is what GitHub and GitLab allow in a repository path segment.
func isSegmentByte(c byte) bool { return isWordByte(c) || c == '.' || c == '-' }

func isPathByte(c byte) bool { return isSegmentByte(c) || c == '/' }

func isHostByte(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c == ':' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// blocksIssue says that a '#' or repository path right after c is not an issue:
// "&#45;" is an HTML entity, "##45" and "@team#4" are something else.
func blocksIssue(c byte) bool { return c == '&' || c == '#' || c == '@' || c == '\\' }
