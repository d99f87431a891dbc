package patchgate

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// TestFileLanguage reports whether p is a test file by language convention,
// and which: *_test.go; test_*.py and *_test.py; *.test.ts|tsx|js|jsx|mjs|cjs;
// any file under a src/test/ directory (JVM builds).
func TestFileLanguage(p string) (TestLanguage, bool) {
	base := path.Base(p)
	switch {
	case strings.HasSuffix(base, "_test.go"):
		return LangGo, true
	case strings.HasSuffix(base, ".py") && (strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py")):
		return LangPython, true
	case strings.HasPrefix(p, "src/test/") || strings.Contains(p, "/src/test/"):
		return LangJVM, true
	}
	for _, ext := range []string{".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"} {
		if strings.HasSuffix(base, ".test"+ext) {
			return LangJS, true
		}
	}
	return "", false
}

// Limits on discovery, whose input (a diff) is untrusted.
const (
	maxProofTests    = 200
	maxProofPathLen  = 1024
	maxProofNameLen  = 256
	maxProofPatchLen = 4 << 20
)

var (
	// A Go test function: "func TestX(t *testing.T)"; the name after Test
	// must not start with a lower-case letter (go test's own rule).
	goTestFunc = regexp.MustCompile(`^func (Test(?:[^a-z\W]\w*)?)\(`)
	// A Python test function or method: "def test_x(", "async def test_x(".
	pyTestFunc = regexp.MustCompile(`^\s*(?:async\s+)?def (test\w*)\s*\(`)
	// A hunk header: "@@ -12,7 +12,9 @@ func TestX(t *testing.T) {".
	hunkHeader = regexp.MustCompile(`^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$`)
	// Paths that may be named in a command: no quotes, spaces or shell syntax.
	safeProofPath = regexp.MustCompile(`^[A-Za-z0-9._/@+-]+$`)
)

// DiscoverTests finds the tests a change adds or modifies from its changed
// files: in Go and Python test files, the test functions whose lines the
// patch adds or changes (a function the patch removes is gone); JavaScript
// and JVM test files count as a whole (their test names are free text or
// need a parser). A test file whose patch the forge left out counts as a
// whole. Removed files add nothing; files whose paths could not be named
// safely in a command are left out. The result is sorted and without
// duplicates, at most maxProofTests long.
func DiscoverTests(files []ChangedFile) []ProofTest {
	var out []ProofTest
	add := func(t ProofTest) {
		if len(out) < maxProofTests && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, f := range files {
		if f.Status == FileRemoved || len(f.Path) > maxProofPathLen || !safeProofPath.MatchString(f.Path) ||
			strings.HasPrefix(f.Path, "/") || slices.Contains(strings.Split(f.Path, "/"), "..") {
			continue
		}
		lang, ok := TestFileLanguage(f.Path)
		if !ok {
			continue
		}
		var fn *regexp.Regexp
		switch lang {
		case LangGo:
			fn = goTestFunc
		case LangPython:
			fn = pyTestFunc
		}
		if fn == nil || f.Patch == "" || len(f.Patch) > maxProofPatchLen {
			add(ProofTest{File: f.Path, Language: lang})
			continue
		}
		for _, name := range touchedFuncs(f.Patch, fn, lang == LangPython) {
			add(ProofTest{File: f.Path, Name: name, Language: lang})
		}
	}
	slices.SortFunc(out, func(a, b ProofTest) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// touchedFuncs walks a patch's hunks and returns the test functions with an
// added or removed line inside them on the new side, in order of appearance.
// The function a line belongs to is the last test function declared above it
// (from the hunk header's context, then from the hunk's own lines); for
// Python a line indented no deeper than the def ends it.
func touchedFuncs(patch string, fn *regexp.Regexp, indented bool) []string {
	var touched []string
	declared := map[string]bool{} // declared on the new side
	removed := map[string]bool{}  // declared on a removed line
	current, indent := "", -1
	mark := func() {
		if current != "" && !slices.Contains(touched, current) {
			touched = append(touched, current)
		}
	}
	for line := range strings.SplitSeq(patch, "\n") {
		if m := hunkHeader.FindStringSubmatch(line); m != nil {
			current, indent = "", -1
			if d := fn.FindStringSubmatch(m[1]); d != nil && len(d[1]) <= maxProofNameLen {
				current, indent = d[1], leadingSpace(m[1])
				declared[current] = true
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, `\`) {
			continue // "\ No newline at end of file"
		}
		op, text := line[0], line[1:]
		if op != '+' && op != '-' && op != ' ' {
			continue
		}
		if d := fn.FindStringSubmatch(text); d != nil && len(d[1]) <= maxProofNameLen {
			if op == '-' {
				removed[d[1]] = true
				continue
			}
			current, indent = d[1], leadingSpace(text)
			declared[current] = true
			if op == '+' {
				mark()
			}
			continue
		}
		if indented && current != "" && strings.TrimSpace(text) != "" && leadingSpace(text) <= indent {
			current = "" // dedented past the def: the function ended
		}
		if !indented && topLevelDecl(text) {
			current = "" // another declaration: not inside the test
		}
		if op != ' ' && strings.TrimSpace(text) != "" {
			mark() // a blank line changes no behaviour
		}
		if !indented && strings.HasPrefix(text, "}") {
			current = "" // the closing brace ends the function
		}
	}
	out := touched[:0]
	for _, name := range touched {
		if declared[name] || !removed[name] {
			out = append(out, name)
		}
	}
	return out
}

// topLevelDecl reports whether a Go line starts a declaration at the top level.
func topLevelDecl(text string) bool {
	for _, kw := range []string{"func ", "type ", "var ", "const ", "import "} {
		if strings.HasPrefix(text, kw) {
			return true
		}
	}
	return false
}

func leadingSpace(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }

// IsTestChange reports whether a changed file is a test file (its change is
// applied on the base when a proof runs without the fix).
func IsTestChange(f ChangedFile) bool {
	if _, ok := TestFileLanguage(f.Path); ok {
		return true
	}
	_, ok := TestFileLanguage(f.PreviousPath)
	return f.PreviousPath != "" && ok
}
