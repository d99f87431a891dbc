package tickets

import (
	"strings"

	"github.com/patchgate/patchgate"
)

// The longest closing keyword is "implementing"; words longer than this are not
// read back, which keeps the look-behind constant.
const maxKeywordLen = len("implementing")

// ClosingKeywords returns the lower-case words that make a reference a "fixes" link
// on forge f, so that comments and docs can tell developers what to write.
func ClosingKeywords(f patchgate.Forge) []string {
	words := []string{"close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved"}
	if f == patchgate.GitLab {
		// GitLab's default closing pattern also accepts these.
		words = append(words, "closing", "fixing", "resolving", "implement", "implements", "implemented", "implementing")
	}
	return words
}

// isClosingKeyword compares case-insensitively: GitHub and GitLab both accept
// "fixes", "Fixes" and "FIXES". It must agree with ClosingKeywords; a switch keeps
// the scan free of allocations.
func isClosingKeyword(f patchgate.Forge, word string) bool {
	if len(word) > maxKeywordLen {
		return false
	}
	var buf [maxKeywordLen]byte
	for i := range len(word) {
		c := word[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(word)]) {
	case "close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved":
		return true
	case "closing", "fixing", "resolving", "implement", "implements", "implemented", "implementing":
		return f == patchgate.GitLab
	}
	return false
}

// keywordBefore returns where the closing keyword in front of the reference at
// pos starts ("Fixes #45", "fixes: PAY-1", on GitLab also "Closes issue #4"), or
// -1. It never looks back past the previous reference, so the scan stays linear.
func (s *scanner) keywordBefore(pos int) int {
	lo, m := s.prevEnd, s.m
	p := pos
	if s.forge == patchgate.GitLab {
		p = s.issueWordBefore(lo, p)
	}
	q := spaceBack(m, lo, p)
	if q == p {
		return -1 // "Fixes#45" is not a claim on either forge
	}
	if q > lo && m[q-1] == ':' {
		q--
	}
	w := q
	for w > lo && q-w <= maxKeywordLen && isLetter(m[w-1]) {
		w--
	}
	if w == q || w > 0 && isWordByte(m[w-1]) || !isClosingKeyword(s.forge, s.text[w:q]) {
		return -1
	}
	return w
}

// listed reports whether the gap between two references joins them into one
// list, so a keyword in front of the first applies to the second: ", ", ", and ",
// " and " (any case, any whitespace).
func (s *scanner) listed(from, to int) bool {
	if s.forge == patchgate.GitLab {
		to = s.issueWordBefore(from, to)
	}
	g := s.m[from:to]
	i := spaceForward(g, 0)
	comma := i < len(g) && g[i] == ','
	if comma {
		i = spaceForward(g, i+1)
	}
	if i == len(g) {
		return comma
	}
	if !comma && i == 0 || len(g)-i < 3 || g[i]|0x20 != 'a' || g[i+1]|0x20 != 'n' || g[i+2]|0x20 != 'd' {
		return false
	}
	j := spaceForward(g, i+3)
	return j > i+3 && j == len(g)
}

// issueWordBefore skips GitLab's optional "issue"/"issues" between a keyword or
// list separator and the reference ("Closes issue #4"): it returns where that
// word starts, or pos when there is none.
func (s *scanner) issueWordBefore(lo, pos int) int {
	m := s.m
	q := spaceBack(m, lo, pos)
	if q == pos {
		return pos
	}
	w := q
	for w > lo && q-w <= len("issues") && isLetter(m[w-1]) {
		w--
	}
	word := s.text[w:q]
	if (strings.EqualFold(word, "issue") || strings.EqualFold(word, "issues")) && (w == 0 || !isWordByte(m[w-1])) {
		return w
	}
	return pos
}

// spaceBack returns the start of the whitespace that ends at pos, not going below lo.
func spaceBack(m []byte, lo, pos int) int {
	for pos > lo && isSpace(m[pos-1]) {
		pos--
	}
	return pos
}

func spaceForward(m []byte, i int) int {
	for i < len(m) && isSpace(m[i]) {
		i++
	}
	return i
}
