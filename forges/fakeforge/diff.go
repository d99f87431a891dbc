package fakeforge

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// maxDiffLines is the longest file the fake diffs line by line; a longer one
// is listed without a patch, as the real forges do for large files.
const maxDiffLines = 1000

// changedFile is one file that differs between two trees.
type changedFile struct {
	path   string
	status string // added, modified, removed
	patch  string // "" when left out
}

// diffTrees lists the files that differ from one tree to another, by path,
// with a unified patch of each text file (one hunk spanning the whole file,
// every unchanged line as context). Renames show as a removal and an addition.
func diffTrees(from, to map[string][]byte) []changedFile {
	var out []changedFile
	for p, after := range to {
		before, ok := from[p]
		switch {
		case !ok:
			out = append(out, changedFile{path: p, status: "added", patch: unifiedPatch(nil, after)})
		case !bytes.Equal(before, after):
			out = append(out, changedFile{path: p, status: "modified", patch: unifiedPatch(before, after)})
		}
	}
	for p, before := range from {
		if _, ok := to[p]; !ok {
			out = append(out, changedFile{path: p, status: "removed", patch: unifiedPatch(before, nil)})
		}
	}
	slices.SortFunc(out, func(a, b changedFile) int { return strings.Compare(a.path, b.path) })
	return out
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// unifiedPatch diffs two texts by their longest common subsequence of lines.
func unifiedPatch(before, after []byte) string {
	a, b := splitLines(before), splitLines(after)
	if len(a) > maxDiffLines || len(b) > maxDiffLines || bytes.IndexByte(before, 0) >= 0 || bytes.IndexByte(after, 0) >= 0 {
		return ""
	}
	// lcs[i][j] is the common length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	start := func(n int) int {
		if n == 0 {
			return 0
		}
		return 1
	}
	fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", start(len(a)), len(a), start(len(b)), len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			sb.WriteString(" " + a[i] + "\n")
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			sb.WriteString("+" + b[j] + "\n")
			j++
		default:
			sb.WriteString("-" + a[i] + "\n")
			i++
		}
	}
	return sb.String()
}
