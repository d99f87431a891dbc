package verification

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// ProofSource is what the proof needs of a forge: the files a change
// touches, and their content at its head.
type ProofSource interface {
	Compare(ctx context.Context, repo patchgate.RepoRef, base, head string) (*patchgate.Comparison, error)
	FileAt(ctx context.Context, repo patchgate.RepoRef, path, ref string) ([]byte, error)
}

// Limits on the test files a proof copies onto the base.
const (
	maxProofFileBytes    = 1 << 20
	maxProofOverlayBytes = 16 << 20
)

// ProofPlan is the runner's view of a verification's fail-to-pass proof: for
// the head of a pull/merge request that fixes a ticket, it finds the tests
// the change adds or modifies (from the forge's compare of the change's base
// and the head), the head's versions of the change's test files (to overlay
// on the base, the fix left out), and the proof suite's environment running
// exactly those tests. ENOTFOUND when there is nothing to prove: no change,
// not a pull/merge request, no fixes link. A plan with no tests is the
// evidence "no regression test".
func (pl *Planner) ProofPlan(ctx context.Context, v *patchgate.Verification) (*patchgate.ProofPlan, error) {
	if v.ChangeID == 0 {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no proof: %s is not a change's head", v.SHA)
	}
	ch, err := pl.Changes.FindChangeByID(ctx, v.ChangeID)
	if err != nil {
		return nil, fmt.Errorf("find change %d: %w", v.ChangeID, err)
	}
	if ch.HeadSHA != v.SHA {
		// A merge commit's or an old head's run: the proof is of the head.
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no proof: %s is not the head of change %d", v.SHA, ch.ID)
	}
	if ch.Kind == patchgate.ChangePush || ch.BaseSHA == "" {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no proof: change %d has no base commit to run without the fix", ch.ID)
	}
	links, err := pl.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID})
	if err != nil {
		return nil, fmt.Errorf("find links of change %d: %w", ch.ID, err)
	}
	if !slices.ContainsFunc(links, func(l *patchgate.Link) bool { return l.Kind == patchgate.LinkFixes }) {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no proof: change %d fixes no ticket", ch.ID)
	}
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	cfg, err := pl.Configs.Read(ctx, repo, v.ConfigRef)
	if err != nil {
		return nil, err
	}
	if cfg.Digest != v.ConfigDigest {
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "%s at %s changed since the verification was planned", config.RepoFileName, v.ConfigRef)
	}
	idx := slices.IndexFunc(cfg.Suites, func(su config.Suite) bool { return su.Name == cfg.Proof.Suite })
	if idx < 0 {
		return nil, patchgate.Errorf(patchgate.EINVALID, "%s: no suite to run the proof in: name one with proof.suite", config.RepoFileName)
	}
	src := pl.Forges[v.Forge]
	if src == nil {
		return nil, patchgate.Errorf(patchgate.EINTERNAL, "no %s client to compare %s", v.Forge, repo)
	}
	comparison, err := src.Compare(ctx, repo, ch.BaseSHA, v.SHA)
	if err != nil {
		return nil, fmt.Errorf("compare %s...%s: %w", ch.BaseSHA, v.SHA, err)
	}
	plan := &patchgate.ProofPlan{
		BaseSHA: ch.BaseSHA, Overlay: map[string][]byte{}, RequireProof: pl.requireProof(v, cfg),
		Excluded: map[string]bool{},
	}
	// A quarantined test never serves as proof: its failure without the fix
	// may be its flakiness, not the bug.
	now := time.Now()
	qs, err := pl.Configs.Quarantines(ctx, repo, cfg, now)
	if err != nil {
		return nil, fmt.Errorf("quarantines of %s: %w", repo, err)
	}
	for _, name := range patchgate.QuarantinedTests(qs, cfg.Proof.Suite, now) {
		plan.Excluded[name] = true
	}
	total := 0
	for _, f := range comparison.Files {
		if !patchgate.IsTestChange(f) {
			continue
		}
		if f.Status == patchgate.FileRenamed && f.PreviousPath != "" {
			plan.Overlay[f.PreviousPath] = nil
		}
		if f.Status == patchgate.FileRemoved {
			plan.Overlay[f.Path] = nil
			continue
		}
		data, err := src.FileAt(ctx, repo, f.Path, v.SHA)
		if err != nil {
			return nil, fmt.Errorf("read test file %s at %s: %w", f.Path, v.SHA, err)
		}
		total += len(data)
		if len(data) > maxProofFileBytes || total > maxProofOverlayBytes {
			return nil, patchgate.Errorf(patchgate.EINVALID, "test file %s: the change's test files exceed %d MiB", f.Path, maxProofOverlayBytes>>20)
		}
		plan.Overlay[f.Path] = data
	}
	plan.Suite = pl.runPolicy(ctx, v, cfg.Release.Branch).apply(v, cfg.Suites[idx])
	plan.Tests, plan.Suite.Spec.Command = RenderProofRun(cfg.Proof.Run, patchgate.DiscoverTests(comparison.Files))
	return plan, nil
}

// RenderProofRun picks the tests one command can run (those of the language
// most of them are in) and substitutes {{tests}} in run (or the language's
// default command) with them: for Go an anchored pattern ^(TestA|TestB)$, for
// Python a -k expression "test_a or test_b", for JavaScript the files, for
// JVM builds the test classes. The tests are quoted for the shell where the
// placeholder stands (bare, inside '...', "...", $(...) or `...`): a name or
// path with spaces, quotes or $(...) is one argument, never shell syntax.
// DiscoverTests admits only safe names and paths anyway; the renderer does not
// rely on it.
func RenderProofRun(run string, tests []patchgate.ProofTest) ([]patchgate.ProofTest, string) {
	if len(tests) == 0 {
		return nil, ""
	}
	count := map[patchgate.TestLanguage]int{}
	for _, t := range tests {
		count[t.Language]++
	}
	lang := tests[0].Language
	for l, n := range count {
		if n > count[lang] || n == count[lang] && l < lang {
			lang = l
		}
	}
	var kept []patchgate.ProofTest
	var items []string
	for _, t := range tests {
		if t.Language != lang {
			continue
		}
		kept = append(kept, t)
		var item string
		switch lang {
		case patchgate.LangGo:
			item = t.Name
			if item == "" {
				item = "Test.*" // every test of the file's package
			}
		case patchgate.LangPython:
			item = t.Name
			if item == "" {
				item = strings.TrimSuffix(path.Base(t.File), ".py")
			}
		case patchgate.LangJS:
			item = t.File
		case patchgate.LangJVM:
			item = strings.TrimSuffix(path.Base(t.File), path.Ext(t.File))
		}
		if !slices.Contains(items, item) {
			items = append(items, item)
		}
	}
	// words are the arguments the tests make where the placeholder stands
	// bare; inside quotes they are one argument, list.
	words := []string{}
	switch lang {
	case patchgate.LangGo:
		words = append(words, "^("+strings.Join(items, "|")+")$")
	case patchgate.LangPython:
		words = append(words, strings.Join(items, " or "))
	case patchgate.LangJVM:
		words = append(words, strings.Join(items, ","))
	default:
		words = items
	}
	if run == "" {
		run = config.DefaultProofRun[lang]
	}
	if lang == patchgate.LangGo {
		run = verboseGoTest(run)
	}
	return kept, substituteQuoted(run, config.ProofTestsPlaceholder, words)
}

// Shell quoting contexts substituteQuoted tells apart.
const (
	shellBare   = iota // unquoted, also inside $(...) and `...`
	shellSingle        // '...'
	shellDouble        // "..."
	shellANSI          // $'...'
)

// substituteQuoted replaces each placeholder in the sh command run with words,
// quoted for the context it stands in, so that no character of theirs is
// read as shell syntax: bare, each word is one argument ('...' where needed);
// inside quotes, the words joined by spaces are the quoted text, escaped for
// that kind of quote. Command substitutions ($(...) and `...`) start a bare
// context of their own, also inside double quotes.
func substituteQuoted(run, placeholder string, words []string) string {
	var b strings.Builder
	state := shellBare
	// stack holds the contexts that command substitutions interrupted, with
	// the substitution's kind: '(' for $(...), '`' for `...`.
	type frame struct {
		state  int
		kind   byte
		parens int
	}
	var stack []frame
	for i := 0; i < len(run); {
		if strings.HasPrefix(run[i:], placeholder) {
			text := quoteFor(state, words)
			// Inside `...` the shell first unescapes \\, \` and \$ and
			// then reads what is left: escape them once per level.
			for _, f := range stack {
				if f.kind == '`' {
					text = backquoteEscaper.Replace(text)
				}
			}
			b.WriteString(text)
			i += len(placeholder)
			continue
		}
		c := run[i]
		next := byte(0)
		if i+1 < len(run) {
			next = run[i+1]
		}
		step := 1
		switch state {
		case shellBare, shellDouble:
			switch {
			case c == '\\':
				step = 2 // an escaped character is literal
			case c == '$' && next == '(':
				stack = append(stack, frame{state: state, kind: '('})
				state, step = shellBare, 2
			case c == '`' && (len(stack) == 0 || stack[len(stack)-1].kind != '`' || state != shellBare):
				stack = append(stack, frame{state: state, kind: '`'})
				state = shellBare
			case c == '`':
				state, stack = stack[len(stack)-1].state, stack[:len(stack)-1]
			case state == shellDouble && c == '"':
				state = shellBare
			case state == shellDouble:
			case c == '\'':
				state = shellSingle
			case c == '"':
				state = shellDouble
			case c == '$' && next == '\'':
				state, step = shellANSI, 2
			case c == '(' && len(stack) > 0:
				stack[len(stack)-1].parens++
			case c == ')' && len(stack) > 0 && stack[len(stack)-1].kind == '(':
				if top := &stack[len(stack)-1]; top.parens > 0 {
					top.parens--
				} else {
					state, stack = top.state, stack[:len(stack)-1]
				}
			}
		case shellSingle:
			if c == '\'' {
				state = shellBare
			}
		case shellANSI:
			switch c {
			case '\\':
				step = 2
			case '\'':
				state = shellBare
			}
		}
		step = min(step, len(run)-i)
		b.WriteString(run[i : i+step])
		i += step
	}
	return b.String()
}

// backquoteEscaper protects text from the unescaping inside `...`.
var backquoteEscaper = strings.NewReplacer(`\\`, `\\\\`, "`", "\\`", "$", `\$`)

// quoteFor renders words for a placeholder standing in the quoting context state.
func quoteFor(state int, words []string) string {
	text := strings.Join(words, " ")
	switch state {
	case shellSingle:
		return strings.ReplaceAll(text, "'", `'\''`)
	case shellDouble:
		var b strings.Builder
		for _, r := range text {
			if strings.ContainsRune("$`\"\\", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return b.String()
	case shellANSI:
		return "'" + shellQuote(text) + "$'"
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	return strings.Join(quoted, " ")
}

// shellSafe matches a word the shell reads as itself, unquoted.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote is s as one shell word: as it is when that is safe, else in
// single quotes (a quote in s closes them, is escaped, and reopens them).
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// goTest finds the go test in a command, goTestListed its -v or -json.
var (
	goTest       = regexp.MustCompile(`\bgo test\b`)
	goTestListed = regexp.MustCompile(`(^|\s)-(v|json)(\s|=|$)`)
)

// verboseGoTest adds -v to a `go test` that lists only failures: the proof
// must see each named test pass on the head, and a quiet go test prints
// nothing of the tests that pass, which would make a holding proof an error
// ("ran none of the tests"). So `go test -run '{{tests}}' ./...`, the shape
// people write, works as written.
func verboseGoTest(run string) string {
	if !goTest.MatchString(run) || goTestListed.MatchString(run) {
		return run
	}
	return goTest.ReplaceAllString(run, "go test -v")
}
