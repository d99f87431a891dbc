package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
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
	// Set holds the keys below release the file wrote (approvals, …): only
	// those ask anything of the server's floor.
	Set map[string]bool `json:"-"`
}

// Request is what the release block asks of the server's floor
// (patchgate.MergeReleasePolicy).
func (r ReleasePolicy) Request() patchgate.ReleaseRequest {
	return patchgate.ReleaseRequest{Set: r.Set, Policy: patchgate.ReleasePolicy{
		Approvals: r.Approvals, AllowAuthorApproval: r.AllowAuthorApproval, AutoPromote: r.AutoPromote,
		RequireProof: r.RequireProof, Required: r.Required,
	}}
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
	doc, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	p := &configParser{Document: doc, ceilings: ceilings}
	cfg := &RepoFile{Release: ReleasePolicy{Approvals: 1}}
	sum := sha256.Sum256(data)
	cfg.Digest = hex.EncodeToString(sum[:])
	if doc.Root == nil {
		return nil, &Error{File: file, Line: 1, Msg: "file is empty: define at least one suite under suites"}
	}
	root := doc.Root
	if !p.Mapping(root, "") {
		return nil, p.Err()
	}
	var suitesNode, releaseNode, quarantineNode, proofNode *yaml.Node
	p.Fields(root, "", map[string]*(*yaml.Node){"suites": &suitesNode, "release": &releaseNode, "quarantine": &quarantineNode, "proof": &proofNode})
	if suitesNode == nil {
		p.Add(root, "suites", "required: define at least one suite")
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
	if p.Failed() {
		return nil, p.Err()
	}
	return cfg, nil
}

// proof reads the proof block (n may be nil: the defaults).
func (p *configParser) proof(n *yaml.Node, suites []Suite) ProofConfig {
	var c ProofConfig
	var suite, run *yaml.Node
	if n != nil && p.Mapping(n, "proof") {
		p.Fields(n, "proof", map[string]*(*yaml.Node){"suite": &suite, "run": &run})
	}
	if suite != nil {
		c.Suite = p.String(suite, "proof.suite")
		if c.Suite != "" && !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == c.Suite }) {
			names := make([]string, 0, len(suites))
			for _, s := range suites {
				names = append(names, s.Name)
			}
			p.Add(suite, "proof.suite", "no suite named %q (want one of %s)", c.Suite, strings.Join(names, ", "))
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
		c.Run = p.String(run, "proof.run")
		if !strings.Contains(c.Run, ProofTestsPlaceholder) {
			p.Add(run, "proof.run", "must name the tests with %s, like go test -v -run '{{tests}}' ./...", ProofTestsPlaceholder)
		}
	}
	return c
}

// configParser reads a .patchgate.yml's nodes into a RepoFile.
type configParser struct {
	*Document
	ceilings Ceilings
}

func (p *configParser) suites(n *yaml.Node) []Suite {
	if !p.Mapping(n, "suites") {
		return nil
	}
	if len(n.Content) == 0 {
		p.Add(n, "suites", "define at least one suite")
	}
	if len(n.Content)/2 > maxSuites {
		p.Add(n, "suites", "at most %d suites", maxSuites)
	}
	var out []Suite
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := "suites." + k.Value
		if !namePattern.MatchString(k.Value) {
			p.Add(k, key, "suite names are lower-case letters, digits, - and _ (at most 40)")
			continue
		}
		out = append(out, p.suite(k.Value, v, key))
	}
	return out
}

func (p *configParser) suite(name string, n *yaml.Node, key string) Suite {
	s := Suite{Name: name, Timeout: defaultTimeout, Required: true, FlakyRetries: defaultFlakyRetries}
	if !p.Mapping(n, key) {
		return s
	}
	var image, run, workdir, env, services, junit, timeout, cpus, memory, pids, required, cache, flaky *yaml.Node
	p.Fields(n, key, map[string]*(*yaml.Node){
		"image": &image, "run": &run, "workdir": &workdir, "env": &env, "services": &services,
		"junit": &junit, "timeout": &timeout, "cpus": &cpus, "memory": &memory, "pids": &pids,
		"required": &required, "cache": &cache, "flaky_retries": &flaky,
	})
	s.Image = p.image(n, image, key+".image")
	s.Run = p.RequiredString(n, run, key+".run")
	if workdir != nil {
		s.Workdir = p.String(workdir, key+".workdir")
		if !path.IsAbs(s.Workdir) {
			p.Add(workdir, key+".workdir", "want an absolute path inside the container")
		}
	}
	s.Env = p.env(env, key+".env")
	if junit != nil {
		s.JUnit = p.relPath(junit, key+".junit")
	}
	if timeout != nil {
		s.Timeout = p.Duration(timeout, key+".timeout", maxTimeout)
	}
	if cpus != nil {
		v := p.Float(cpus, key+".cpus", 0, 64, "want a number of CPUs between 0 and 64, like 1.5")
		s.Limits.NanoCPUs = int64(v * 1e9)
	}
	if memory != nil {
		s.Limits.MemoryBytes = p.Size(memory, key+".memory", 16<<20, 256<<30)
	}
	if pids != nil {
		s.Limits.PIDs, _ = p.Int(pids, key+".pids", 16, 1<<20, "want a process limit between 16 and 1048576")
	}
	p.checkCeilings(&s, key, cpus, memory, pids, timeout)
	if cache != nil {
		s.Cache = p.cachePaths(cache, key+".cache", s.Workdir)
	}
	if required != nil {
		p.Bool(required, key+".required", &s.Required)
	}
	if flaky != nil {
		if v, ok := p.Int(flaky, key+".flaky_retries", 0, maxFlakyRetries, "want a number of re-runs from 0 to %d", maxFlakyRetries); ok {
			s.FlakyRetries = int(v)
		} else {
			s.FlakyRetries = 0
		}
	}
	if services != nil && p.Mapping(services, key+".services") {
		if len(services.Content)/2 > maxServices {
			p.Add(services, key+".services", "at most %d services", maxServices)
		}
		for i := 0; i+1 < len(services.Content); i += 2 {
			k, v := services.Content[i], services.Content[i+1]
			skey := key + ".services." + k.Value
			if !namePattern.MatchString(k.Value) {
				p.Add(k, skey, "service names are host names: lower-case letters, digits, - and _")
				continue
			}
			s.Services = append(s.Services, p.service(k.Value, v, skey))
		}
	}
	return s
}

func (p *configParser) service(name string, n *yaml.Node, key string) SuiteService {
	s := SuiteService{Name: name, ReadyTimeout: defaultReadyTimeout}
	if !p.Mapping(n, key) {
		return s
	}
	var image, env, command, ready, readyTimeout *yaml.Node
	p.Fields(n, key, map[string]*(*yaml.Node){
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
		s.ReadyTimeout = p.Duration(readyTimeout, key+".ready_timeout", 30*time.Minute)
	}
	return s
}

func (p *configParser) release(n *yaml.Node, suites []Suite) ReleasePolicy {
	r := ReleasePolicy{Approvals: 1}
	if !p.Mapping(n, "release") {
		return r
	}
	var branch, required, approvals, allowAuthor, autoPromote, requireProof *yaml.Node
	p.Fields(n, "release", map[string]*(*yaml.Node){
		"branch": &branch, "required": &required, "approvals": &approvals, "allow_author_approval": &allowAuthor,
		"auto_promote": &autoPromote, "require_proof": &requireProof,
	})
	r.Set = map[string]bool{}
	for key, n := range map[string]*yaml.Node{patchgate.PolicyApprovals: approvals, patchgate.PolicyAllowAuthorApproval: allowAuthor,
		patchgate.PolicyAutoPromote: autoPromote, patchgate.PolicyRequireProof: requireProof, patchgate.PolicyRequired: required} {
		if n != nil {
			r.Set[key] = true
		}
	}
	if requireProof != nil {
		p.Bool(requireProof, "release.require_proof", &r.RequireProof)
	}
	if branch != nil {
		r.Branch = p.String(branch, "release.branch")
		if r.Branch == "" || strings.ContainsAny(r.Branch, " ~^:?*[\\") || strings.HasPrefix(r.Branch, "-") {
			p.Add(branch, "release.branch", "want a branch name")
		}
	}
	if required != nil {
		r.Required = p.List(required, "release.required")
		for _, name := range r.Required {
			if !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == name }) {
				p.Add(required, "release.required", "no suite named %q", name)
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
		v, _ := p.Int(approvals, "release.approvals", 1, 10, "want a number from 1 to 10")
		r.Approvals = int(v)
	}
	if allowAuthor != nil {
		p.Bool(allowAuthor, "release.allow_author_approval", &r.AllowAuthorApproval)
	}
	if autoPromote != nil {
		p.Bool(autoPromote, "release.auto_promote", &r.AutoPromote)
	}
	return r
}

func (p *configParser) image(parent, n *yaml.Node, key string) string {
	v := p.RequiredString(parent, n, key)
	if v != "" && (!imagePattern.MatchString(v) || len(v) > 255) {
		p.Add(n, key, "%q is not an image reference like postgres:16 or ghcr.io/acme/tool@sha256:…", v)
	}
	return v
}

func (p *configParser) env(n *yaml.Node, key string) map[string]string {
	return p.StringMap(n, key, envKeyPattern.MatchString, "not a valid environment variable name")
}

// command accepts a list of strings (exec form) or one string (run by sh -c).
func (p *configParser) command(n *yaml.Node, key string) []string {
	if n.Kind == yaml.ScalarNode {
		v := p.String(n, key)
		if strings.TrimSpace(v) == "" {
			p.Add(n, key, "must not be empty")
			return nil
		}
		return []string{"sh", "-c", v}
	}
	list := p.List(n, key)
	if len(list) == 0 {
		p.Add(n, key, "must not be empty")
	}
	return list
}

func (p *configParser) relPath(n *yaml.Node, key string) string {
	v := p.String(n, key)
	clean := path.Clean(v)
	if v == "" || path.IsAbs(v) || clean == ".." || strings.HasPrefix(clean, "../") {
		p.Add(n, key, "want a path relative to the working directory, inside it")
		return ""
	}
	return clean
}

// cachePaths reads a suite's cache list: absolute directories of the runner,
// neither / nor the working directory the source is copied to.
func (p *configParser) cachePaths(n *yaml.Node, key, workdir string) []string {
	list := p.List(n, key)
	if len(list) > maxCachePaths {
		p.Add(n, key, "at most %d cache directories", maxCachePaths)
		return nil
	}
	if workdir == "" {
		workdir = "/workspace"
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		clean := path.Clean(v)
		if !path.IsAbs(v) || clean == "/" || clean == path.Clean(workdir) || strings.HasPrefix(path.Clean(workdir)+"/", clean+"/") {
			p.Add(n, key, "%q: want an absolute directory other than / and the working directory", v)
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
		p.Add(n, "quarantine", "want a list of entries with test, owner, ticket and expires")
		return nil
	}
	if len(n.Content) > maxQuarantines {
		p.Add(n, "quarantine", "at most %d quarantined tests", maxQuarantines)
		return nil
	}
	var out []patchgate.Quarantine
	for i, item := range n.Content {
		key := fmt.Sprintf("quarantine[%d]", i)
		if !p.Mapping(item, key) {
			continue
		}
		var test, suite, owner, ticket, reason, expires *yaml.Node
		p.Fields(item, key, map[string]*(*yaml.Node){
			"test": &test, "suite": &suite, "owner": &owner, "ticket": &ticket, "reason": &reason, "expires": &expires,
		})
		q := patchgate.Quarantine{Source: patchgate.QuarantineConfig, CreatedBy: RepoFileName, Line: item.Line}
		q.Test = p.RequiredString(item, test, key+".test")
		q.Owner = p.RequiredString(item, owner, key+".owner")
		q.Ticket = p.RequiredString(item, ticket, key+".ticket")
		if reason != nil {
			q.Reason = p.String(reason, key+".reason")
		}
		if suite != nil {
			q.Suite = p.String(suite, key+".suite")
			if !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == q.Suite }) {
				p.Add(suite, key+".suite", "no suite named %q", q.Suite)
			}
		}
		if v := p.RequiredString(item, expires, key+".expires"); v != "" {
			t, err := parseExpiry(v)
			if err != nil {
				p.Add(expires, key+".expires", "want a date like 2026-12-20 (UTC midnight, when it stops excusing), at most 30 days ahead")
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
