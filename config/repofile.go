package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"go.yaml.in/yaml/v3"
)

// RepoFileName is the name of the configuration file in a verified repository.
const RepoFileName = ".patchgate.yml"

// RepoFile is a repository's .patchgate.yml: the suites that verify a fix and the
// release policy.
type RepoFile struct {
	Suites  []Suite       `json:"suites"`
	Release ReleasePolicy `json:"release"`
	// Quarantine are the flaky tests whose failures do not fail their suite
	// until they expire (Forge, Repo, CreatedAt are set by Quarantines).
	Quarantine []patchgate.Quarantine `json:"quarantine,omitempty"`
	// Proof says how the fail-to-pass proof runs a fix's changed tests.
	Proof ProofConfig `json:"proof"`
	// Digest identifies the exact file content, so a verification is unique per
	// (repository, SHA, config digest).
	Digest string `json:"digest"`
}

// Suite is one suite: a command run in a container, with its services.
type Suite struct {
	Name     string            `json:"name"`
	Image    string            `json:"image"`
	Run      string            `json:"run"`
	Workdir  string            `json:"workdir,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	Services []SuiteService    `json:"services,omitempty"`
	JUnit    string            `json:"junit,omitempty"`
	Timeout  time.Duration     `json:"timeout"`
	Limits   patchgate.Limits  `json:"limits"`
	// Cache are directories of the runner kept between runs of trusted heads
	// (build and module caches).
	Cache []string `json:"cache,omitempty"`
	// Required suites must pass for a change to be verified.
	Required bool `json:"required"`
	// FlakyRetries is how many more times a required suite that failed runs
	// on the same commit, in a fresh environment, before its failure counts: a
	// test that fails and then passes is flaky, one that fails every time is
	// broken.
	FlakyRetries int `json:"flaky_retries"`
}

// ProofConfig is the proof block: the suite whose environment (image,
// services, env, limits) runs a fix's changed tests without and with the fix,
// and the command that runs them, {{tests}} standing for the tests.
type ProofConfig struct {
	// Suite is the suite's name; by default "regression" when there is one,
	// else the first required suite.
	Suite string `json:"suite"`
	// Run is the command; "" means the default for the tests' language
	// (DefaultProofRun).
	Run string `json:"run,omitempty"`
}

// ProofTestsPlaceholder stands for the tests in proof.run.
const ProofTestsPlaceholder = "{{tests}}"

// DefaultProofRun is the proof command for each language's tests: verbose,
// so that passing tests are listed and a missing one is seen to be missing.
var DefaultProofRun = map[patchgate.TestLanguage]string{
	patchgate.LangGo:     "go test -v -count=1 -run '{{tests}}' ./...",
	patchgate.LangPython: "python -m pytest -v -k '{{tests}}'",
	patchgate.LangJS:     "npx jest --verbose {{tests}}",
	patchgate.LangJVM:    "mvn -q test -Dtest='{{tests}}'",
}

// SuiteService is a container a suite's command talks to by Name.
type SuiteService struct {
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	Env          map[string]string `json:"env,omitempty"`
	Command      []string          `json:"command,omitempty"`
	Ready        []string          `json:"ready,omitempty"`
	ReadyTimeout time.Duration     `json:"ready_timeout"`
}

// ReleasePolicy is the release block: which branch releases come from, which
// suites must pass, and how many approvals a release needs.
type ReleasePolicy struct {
	// Branch is the release branch; "" means the repository's default branch.
	Branch   string   `json:"branch,omitempty"`
	Required []string `json:"required"`
	// Approvals is how many distinct release managers must approve.
	Approvals int `json:"approvals"`
	// AllowAuthorApproval lets an author of an included change approve.
	AllowAuthorApproval bool `json:"allow_author_approval"`
	// AutoPromote promotes a candidate as soon as it is releasable and has
	// its approvals; otherwise a release manager runs the promotion.
	AutoPromote bool `json:"auto_promote"`
	// RequireProof makes a ticket's fix count only when its fail-to-pass
	// proof holds (the evidence is shown either way).
	RequireProof bool `json:"require_proof"`
}

// Error is a problem in a .patchgate.yml, located by file, line and key so
// that the forge status and the API can point at it.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Unwrap makes a configuration problem an EINVALID patchgate error whose
// message is the located problem, so that wherever it surfaces (a release
// blocker, the API, a status) the user reads it, not "internal error".
func (e *Error) Unwrap() error {
	return &patchgate.Error{Code: patchgate.EINVALID, Message: e.Error()}
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Limits on what a configuration may ask for.
const (
	maxCachePaths       = 8
	defaultTimeout      = 10 * time.Minute
	maxTimeout          = 6 * time.Hour
	defaultReadyTimeout = 60 * time.Second
	defaultFlakyRetries = 1
	maxFlakyRetries     = 3
	maxSuites           = 20
	maxServices         = 10
	maxQuarantines      = 100
	maxConfigBytes      = 256 << 10
)

var (
	namePattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,38}[a-z0-9])?$`)
	envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	imagePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@+-]*$`)
)

// ParseRepoFile parses and validates a .patchgate.yml. Every problem is a
// *Error naming file, line and key; the first problems found (up to 10)
// are joined.
func ParseRepoFile(file string, data []byte) (*RepoFile, error) {
	return ParseRepoFileWithin(file, data, Ceilings{})
}

// ParseRepoFileWithin is ParseRepoFile that also holds every suite to the
// operator's ceilings.
func ParseRepoFileWithin(file string, data []byte, ceilings Ceilings) (*RepoFile, error) {
	if len(data) > maxConfigBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("file is %d bytes; at most %d", len(data), maxConfigBytes)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	p := &configParser{file: file, ceilings: ceilings}
	cfg := &RepoFile{Release: ReleasePolicy{Approvals: 1}}
	sum := sha256.Sum256(data)
	cfg.Digest = hex.EncodeToString(sum[:])
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Line: 1, Msg: "file is empty: define at least one suite under suites"}
	}
	root := doc.Content[0]
	if !p.mapping(root, "") {
		return nil, p.err()
	}
	var suitesNode, releaseNode, quarantineNode, proofNode *yaml.Node
	p.fields(root, "", map[string]*(*yaml.Node){"suites": &suitesNode, "release": &releaseNode, "quarantine": &quarantineNode, "proof": &proofNode})
	if suitesNode == nil {
		p.add(root, "suites", "required: define at least one suite")
	} else {
		cfg.Suites = p.suites(suitesNode)
	}
	if releaseNode != nil {
		cfg.Release = p.release(releaseNode, cfg.Suites)
	} else {
		for _, s := range cfg.Suites {
			if s.Required {
				cfg.Release.Required = append(cfg.Release.Required, s.Name)
			}
		}
	}
	if quarantineNode != nil {
		cfg.Quarantine = p.quarantines(quarantineNode, cfg.Suites)
	}
	cfg.Proof = p.proof(proofNode, cfg.Suites)
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return cfg, nil
}

// proof reads the proof block (n may be nil: the defaults).
func (p *configParser) proof(n *yaml.Node, suites []Suite) ProofConfig {
	var c ProofConfig
	var suite, run *yaml.Node
	if n != nil && p.mapping(n, "proof") {
		p.fields(n, "proof", map[string]*(*yaml.Node){"suite": &suite, "run": &run})
	}
	if suite != nil {
		c.Suite = p.str(suite, "proof.suite")
		if c.Suite != "" && !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == c.Suite }) {
			names := make([]string, 0, len(suites))
			for _, s := range suites {
				names = append(names, s.Name)
			}
			p.add(suite, "proof.suite", "no suite named %q (want one of %s)", c.Suite, strings.Join(names, ", "))
		}
	} else {
		for _, s := range suites {
			if s.Name == "regression" {
				c.Suite = s.Name
			}
		}
		for _, s := range suites {
			if c.Suite == "" && s.Required {
				c.Suite = s.Name
			}
		}
	}
	if run != nil {
		c.Run = p.str(run, "proof.run")
		if !strings.Contains(c.Run, ProofTestsPlaceholder) {
			p.add(run, "proof.run", "must name the tests with %s, like go test -v -run '{{tests}}' ./...", ProofTestsPlaceholder)
		}
	}
	return c
}

// yamlError turns the YAML library's syntax error into a located Error.
func yamlError(file string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, strings.TrimSpace(tail)
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "not valid YAML: " + msg}
}

// configParser walks the YAML tree, collecting located errors.
type configParser struct {
	file     string
	ceilings Ceilings
	errs     []error
}

func (p *configParser) add(n *yaml.Node, key, format string, args ...any) {
	if len(p.errs) < 10 {
		p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
}

func (p *configParser) err() error { return errors.Join(p.errs...) }

func (p *configParser) mapping(n *yaml.Node, key string) bool {
	if n.Kind != yaml.MappingNode {
		where := key
		if where == "" {
			where = "top level"
		}
		p.add(n, key, "want a mapping at %s", where)
		return false
	}
	return true
}

// fields assigns the value nodes of known keys and reports unknown ones.
func (p *configParser) fields(n *yaml.Node, prefix string, known map[string]*(*yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		dst, ok := known[k.Value]
		if !ok {
			names := make([]string, 0, len(known))
			for name := range known {
				names = append(names, name)
			}
			slices.Sort(names)
			p.add(k, join(prefix, k.Value), "unknown key (want one of %s)", strings.Join(names, ", "))
			continue
		}
		if *dst != nil {
			p.add(k, join(prefix, k.Value), "given twice")
			continue
		}
		*dst = v
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (p *configParser) suites(n *yaml.Node) []Suite {
	if !p.mapping(n, "suites") {
		return nil
	}
	if len(n.Content) == 0 {
		p.add(n, "suites", "define at least one suite")
	}
	if len(n.Content)/2 > maxSuites {
		p.add(n, "suites", "at most %d suites", maxSuites)
	}
	var out []Suite
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := "suites." + k.Value
		if !namePattern.MatchString(k.Value) {
			p.add(k, key, "suite names are lower-case letters, digits, - and _ (at most 40)")
			continue
		}
		out = append(out, p.suite(k.Value, v, key))
	}
	return out
}

func (p *configParser) suite(name string, n *yaml.Node, key string) Suite {
	s := Suite{Name: name, Timeout: defaultTimeout, Required: true, FlakyRetries: defaultFlakyRetries}
	if !p.mapping(n, key) {
		return s
	}
	var image, run, workdir, env, services, junit, timeout, cpus, memory, pids, required, cache, flaky *yaml.Node
	p.fields(n, key, map[string]*(*yaml.Node){
		"image": &image, "run": &run, "workdir": &workdir, "env": &env, "services": &services,
		"junit": &junit, "timeout": &timeout, "cpus": &cpus, "memory": &memory, "pids": &pids,
		"required": &required, "cache": &cache, "flaky_retries": &flaky,
	})
	s.Image = p.image(n, image, key+".image")
	s.Run = p.requiredString(n, run, key+".run")
	if workdir != nil {
		s.Workdir = p.str(workdir, key+".workdir")
		if !path.IsAbs(s.Workdir) {
			p.add(workdir, key+".workdir", "want an absolute path inside the container")
		}
	}
	s.Env = p.env(env, key+".env")
	if junit != nil {
		s.JUnit = p.relPath(junit, key+".junit")
	}
	if timeout != nil {
		s.Timeout = p.duration(timeout, key+".timeout", maxTimeout)
	}
	if cpus != nil {
		var v float64
		if err := cpus.Decode(&v); err != nil || v <= 0 || v > 64 {
			p.add(cpus, key+".cpus", "want a number of CPUs between 0 and 64, like 1.5")
		}
		s.Limits.NanoCPUs = int64(v * 1e9)
	}
	if memory != nil {
		s.Limits.MemoryBytes = p.bytes(memory, key+".memory")
	}
	if pids != nil {
		var v int64
		if err := pids.Decode(&v); err != nil || v < 16 || v > 1<<20 {
			p.add(pids, key+".pids", "want a process limit between 16 and 1048576")
		}
		s.Limits.PIDs = v
	}
	p.checkCeilings(&s, key, cpus, memory, pids, timeout)
	if cache != nil {
		s.Cache = p.cachePaths(cache, key+".cache", s.Workdir)
	}
	if required != nil {
		if err := required.Decode(&s.Required); err != nil {
			p.add(required, key+".required", "want true or false")
		}
	}
	if flaky != nil {
		if err := flaky.Decode(&s.FlakyRetries); err != nil || s.FlakyRetries < 0 || s.FlakyRetries > maxFlakyRetries {
			p.add(flaky, key+".flaky_retries", "want a number of re-runs from 0 to %d", maxFlakyRetries)
			s.FlakyRetries = 0
		}
	}
	if services != nil && p.mapping(services, key+".services") {
		if len(services.Content)/2 > maxServices {
			p.add(services, key+".services", "at most %d services", maxServices)
		}
		for i := 0; i+1 < len(services.Content); i += 2 {
			k, v := services.Content[i], services.Content[i+1]
			skey := key + ".services." + k.Value
			if !namePattern.MatchString(k.Value) {
				p.add(k, skey, "service names are host names: lower-case letters, digits, - and _")
				continue
			}
			s.Services = append(s.Services, p.service(k.Value, v, skey))
		}
	}
	return s
}

func (p *configParser) service(name string, n *yaml.Node, key string) SuiteService {
	s := SuiteService{Name: name, ReadyTimeout: defaultReadyTimeout}
	if !p.mapping(n, key) {
		return s
	}
	var image, env, command, ready, readyTimeout *yaml.Node
	p.fields(n, key, map[string]*(*yaml.Node){
		"image": &image, "env": &env, "command": &command, "ready": &ready, "ready_timeout": &readyTimeout,
	})
	s.Image = p.image(n, image, key+".image")
	s.Env = p.env(env, key+".env")
	if command != nil {
		s.Command = p.command(command, key+".command")
	}
	if ready != nil {
		s.Ready = p.command(ready, key+".ready")
	}
	if readyTimeout != nil {
		s.ReadyTimeout = p.duration(readyTimeout, key+".ready_timeout", 30*time.Minute)
	}
	return s
}

func (p *configParser) release(n *yaml.Node, suites []Suite) ReleasePolicy {
	r := ReleasePolicy{Approvals: 1}
	if !p.mapping(n, "release") {
		return r
	}
	var branch, required, approvals, allowAuthor, autoPromote, requireProof *yaml.Node
	p.fields(n, "release", map[string]*(*yaml.Node){
		"branch": &branch, "required": &required, "approvals": &approvals, "allow_author_approval": &allowAuthor,
		"auto_promote": &autoPromote, "require_proof": &requireProof,
	})
	if requireProof != nil {
		if err := requireProof.Decode(&r.RequireProof); err != nil {
			p.add(requireProof, "release.require_proof", "want true or false")
		}
	}
	if branch != nil {
		r.Branch = p.str(branch, "release.branch")
		if r.Branch == "" || strings.ContainsAny(r.Branch, " ~^:?*[\\") || strings.HasPrefix(r.Branch, "-") {
			p.add(branch, "release.branch", "want a branch name")
		}
	}
	if required != nil {
		r.Required = p.strList(required, "release.required")
		for _, name := range r.Required {
			if !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == name }) {
				p.add(required, "release.required", "no suite named %q", name)
			}
		}
	} else {
		for _, s := range suites {
			if s.Required {
				r.Required = append(r.Required, s.Name)
			}
		}
	}
	if approvals != nil {
		if err := approvals.Decode(&r.Approvals); err != nil || r.Approvals < 1 || r.Approvals > 10 {
			p.add(approvals, "release.approvals", "want a number from 1 to 10")
		}
	}
	if allowAuthor != nil {
		if err := allowAuthor.Decode(&r.AllowAuthorApproval); err != nil {
			p.add(allowAuthor, "release.allow_author_approval", "want true or false")
		}
	}
	if autoPromote != nil {
		if err := autoPromote.Decode(&r.AutoPromote); err != nil {
			p.add(autoPromote, "release.auto_promote", "want true or false")
		}
	}
	return r
}

func (p *configParser) str(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(n, key, "want a string")
		return ""
	}
	return n.Value
}

func (p *configParser) requiredString(parent, n *yaml.Node, key string) string {
	if n == nil {
		p.add(parent, key, "required")
		return ""
	}
	v := p.str(n, key)
	if strings.TrimSpace(v) == "" {
		p.add(n, key, "must not be empty")
	}
	return v
}

func (p *configParser) image(parent, n *yaml.Node, key string) string {
	v := p.requiredString(parent, n, key)
	if v != "" && (!imagePattern.MatchString(v) || len(v) > 255) {
		p.add(n, key, "%q is not an image reference like postgres:16 or ghcr.io/acme/tool@sha256:…", v)
	}
	return v
}

func (p *configParser) env(n *yaml.Node, key string) map[string]string {
	if n == nil || !p.mapping(n, key) {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !envKeyPattern.MatchString(k.Value) {
			p.add(k, key+"."+k.Value, "not a valid environment variable name")
			continue
		}
		if v.Kind != yaml.ScalarNode {
			p.add(v, key+"."+k.Value, "want a string, number or boolean")
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}

// command accepts a list of strings (exec form) or one string (run by sh -c).
func (p *configParser) command(n *yaml.Node, key string) []string {
	if n.Kind == yaml.ScalarNode {
		v := p.str(n, key)
		if strings.TrimSpace(v) == "" {
			p.add(n, key, "must not be empty")
			return nil
		}
		return []string{"sh", "-c", v}
	}
	list := p.strList(n, key)
	if len(list) == 0 {
		p.add(n, key, "must not be empty")
	}
	return list
}

func (p *configParser) strList(n *yaml.Node, key string) []string {
	if n.Kind != yaml.SequenceNode {
		p.add(n, key, "want a list of strings")
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			p.add(item, key, "want a list of strings")
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (p *configParser) relPath(n *yaml.Node, key string) string {
	v := p.str(n, key)
	clean := path.Clean(v)
	if v == "" || path.IsAbs(v) || clean == ".." || strings.HasPrefix(clean, "../") {
		p.add(n, key, "want a path relative to the working directory, inside it")
		return ""
	}
	return clean
}

func (p *configParser) duration(n *yaml.Node, key string, max time.Duration) time.Duration {
	d, err := time.ParseDuration(p.str(n, key))
	if err != nil || d <= 0 || d > max {
		p.add(n, key, "want a duration like 90s or 10m, at most %s", max)
		return 0
	}
	return d
}

// bytes parses sizes like 512m, 2g, 1.5GiB.
func (p *configParser) bytes(n *yaml.Node, key string) int64 {
	b, err := ParseSize(p.str(n, key))
	if err != nil || b < 16<<20 || b > 256<<30 {
		p.add(n, key, "want a size from 16m to 256g, like 512m or 2g")
		return 0
	}
	return b
}

// cachePaths reads a suite's cache list: absolute directories of the runner,
// neither / nor the working directory the source is copied to.
func (p *configParser) cachePaths(n *yaml.Node, key, workdir string) []string {
	list := p.strList(n, key)
	if len(list) > maxCachePaths {
		p.add(n, key, "at most %d cache directories", maxCachePaths)
		return nil
	}
	if workdir == "" {
		workdir = "/workspace"
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		clean := path.Clean(v)
		if !path.IsAbs(v) || clean == "/" || clean == path.Clean(workdir) || strings.HasPrefix(path.Clean(workdir)+"/", clean+"/") {
			p.add(n, key, "%q: want an absolute directory other than / and the working directory", v)
			continue
		}
		if !slices.Contains(out, clean) {
			out = append(out, clean)
		}
	}
	return out
}

// quarantines reads the quarantine: list. The 30-day cap needs the time the
// file is used at, so RepoFile.Quarantines checks it, not the parser.
func (p *configParser) quarantines(n *yaml.Node, suites []Suite) []patchgate.Quarantine {
	if n.Kind != yaml.SequenceNode {
		p.add(n, "quarantine", "want a list of entries with test, owner, ticket and expires")
		return nil
	}
	if len(n.Content) > maxQuarantines {
		p.add(n, "quarantine", "at most %d quarantined tests", maxQuarantines)
		return nil
	}
	var out []patchgate.Quarantine
	for i, item := range n.Content {
		key := fmt.Sprintf("quarantine[%d]", i)
		if !p.mapping(item, key) {
			continue
		}
		var test, suite, owner, ticket, reason, expires *yaml.Node
		p.fields(item, key, map[string]*(*yaml.Node){
			"test": &test, "suite": &suite, "owner": &owner, "ticket": &ticket, "reason": &reason, "expires": &expires,
		})
		q := patchgate.Quarantine{Source: patchgate.QuarantineConfig, CreatedBy: RepoFileName, Line: item.Line}
		q.Test = p.requiredString(item, test, key+".test")
		q.Owner = p.requiredString(item, owner, key+".owner")
		q.Ticket = p.requiredString(item, ticket, key+".ticket")
		if reason != nil {
			q.Reason = p.str(reason, key+".reason")
		}
		if suite != nil {
			q.Suite = p.str(suite, key+".suite")
			if !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == q.Suite }) {
				p.add(suite, key+".suite", "no suite named %q", q.Suite)
			}
		}
		if v := p.requiredString(item, expires, key+".expires"); v != "" {
			t, err := parseExpiry(v)
			if err != nil {
				p.add(expires, key+".expires", "want a date like 2026-12-20 (UTC midnight, when it stops excusing), at most 30 days ahead")
			}
			q.ExpiresAt = t
		}
		out = append(out, q)
	}
	return out
}

// parseExpiry reads a quarantine's expiry: a date (its UTC midnight) or an
// RFC 3339 time.
func parseExpiry(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t.UTC(), err
}

// Quarantines returns the file's quarantines of repo as in force at now. An
// entry that expires more than 30 days after now is a located Error
// naming the limit: a quarantine is renewed, never written for longer.
func (c *RepoFile) Quarantines(repo patchgate.RepoRef, now time.Time) ([]patchgate.Quarantine, error) {
	var errs []error
	out := make([]patchgate.Quarantine, 0, len(c.Quarantine))
	for i, q := range c.Quarantine {
		q.Forge, q.Repo, q.CreatedAt = repo.Forge, repo.Name, now
		if err := patchgate.CheckQuarantineExpiry(q.Test, now, q.ExpiresAt); err != nil {
			errs = append(errs, &Error{File: RepoFileName, Line: q.Line, Key: fmt.Sprintf("quarantine[%d].expires", i), Msg: patchgate.ErrorMessage(err)})
			continue
		}
		out = append(out, q)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Plan turns the suite into the environment that runs it.
func (s Suite) Plan() patchgate.SuitePlan {
	spec := patchgate.EnvironmentSpec{
		Image:     s.Image,
		Command:   s.Run,
		Workdir:   s.Workdir,
		Env:       s.Env,
		JUnitPath: s.JUnit,
		Timeout:   s.Timeout,
		Limits:    s.Limits,
	}
	for _, svc := range s.Services {
		spec.Services = append(spec.Services, patchgate.ServiceSpec{
			Name: svc.Name, Image: svc.Image, Env: svc.Env, Command: svc.Command,
			Ready: svc.Ready, ReadyTimeout: svc.ReadyTimeout,
		})
	}
	return patchgate.SuitePlan{Name: s.Name, Required: s.Required, FlakyRetries: s.FlakyRetries, Spec: spec}
}
