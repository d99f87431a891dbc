package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/testenv"
	"github.com/spf13/cobra"
)

// demoFiles is the demo's sample repository: main/ is its first commit, and
// fix-1/ and fix-2/ the files the two pushes of the fix change. Each file is
// stored with a .txt suffix, left out when it is written, so that the Go
// tools see neither a module (go.mod) nor packages in them.
//
//go:embed all:demo
var demoFiles embed.FS

const (
	demoRepo   = "acme/payments"
	demoImage  = "patchgate-test/runner:go1.26"
	demoTicket = "PAY-7"
	// The people of the story: dana writes the fix, rita releases it.
	demoDeveloper = "dana"
	demoManager   = "rita"
	demoPR        = 7
	// demoOwner labels the demo's containers and cache volumes.
	demoOwner = "patchgate-demo"
)

// demoOptions are `patchgate demo`'s flags.
type demoOptions struct {
	Listen string // "" = 127.0.0.1:8080, or a free port when that one is taken
	Dir    string // "" = a temporary directory removed at the end
	Exit   bool   // stop after the story instead of waiting for Ctrl-C
}

func newDemoCommand() *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch a fix go from ticket to release: a real patchgate, a fake GitHub, real containers",
		Long: "Start patchgate on a temporary SQLite database with an in-process fake GitHub and a small\n" +
			"sample repository, and drive a story through it with signed webhooks: a ticket, a fix whose\n" +
			"suite fails, a corrected push that passes in a container, the fail-to-pass proof, a release\n" +
			"candidate, an approval and a promotion with its signed evidence pack. It prints the dashboard's\n" +
			"address and a token to sign in with first, so the story can be watched as it happens.\n\n" +
			"It needs Docker and the runner image " + demoImage + " (built offline by\n" +
			"scripts/images/build.sh, or make images), and takes a few minutes.\n\n" +
			"After the story the service keeps running, to browse, until Ctrl-C; --exit stops it instead.\n" +
			"Everything lives in a temporary directory removed at the end, unless --dir names one to keep.",
		Example: "  patchgate demo\n  patchgate demo --listen 127.0.0.1:9090 --dir ./demo-run\n  make demo",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), opts, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "address to serve on (default 127.0.0.1:8080, or a free port when it is taken)")
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "directory to keep the database, keys, log and evidence pack in (default: a temporary one, removed at the end)")
	cmd.Flags().BoolVar(&opts.Exit, "exit", false, "stop once the story is told instead of serving the dashboard until Ctrl-C")
	return cmd
}

// demo is one run of the story: a patchgate, the fake forge it talks to,
// the sample repository, and the tokens of the people in it.
type demo struct {
	out     io.Writer
	dir     string
	start   time.Time
	forge   *fakeforge.Forge
	main    *Main
	url     string
	secret  string // the webhook secret the forge signs with
	repo    *demoGit
	repoID  int64
	admin   string // the newcomer's token, to sign in to the dashboard
	tracker string // the help desk's
	manager string // rita's
	users   map[string]int64
}

// runDemo tells the story and then, unless opts.Exit, serves until ctx ends.
func runDemo(ctx context.Context, opts demoOptions, out io.Writer) (err error) {
	if err := demoPrerequisites(ctx, demoImage); err != nil {
		return err
	}
	d := &demo{out: out, start: time.Now(), users: map[string]int64{}}
	d.dir = opts.Dir
	if d.dir == "" {
		if d.dir, err = os.MkdirTemp("", "patchgate-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(d.dir)
	} else if err := os.MkdirAll(d.dir, 0o700); err != nil { // it keeps the database, the keys and the tokens' log
		return fmt.Errorf("demo --dir %s: %w: name a directory you may create", d.dir, err)
	}
	if d.dir, err = filepath.Abs(d.dir); err != nil {
		return err
	}
	listen, err := demoListen(opts.Listen)
	if err != nil {
		return err
	}
	if err := d.startServices(ctx, listen); err != nil {
		return err
	}
	defer func() {
		// patchgate first: its workers may still be telling the forge.
		if cerr := d.main.Close(); err == nil {
			err = cerr
		}
		d.forge.Close()
	}()
	if err := d.story(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("the demo was interrupted: %w", ctx.Err())
		}
		return fmt.Errorf("the demo's story stopped: %w (the server's log: %s)", err, d.logFile())
	}
	if opts.Exit {
		d.say("Stopping (--exit). Without --exit the dashboard stays up to browse until Ctrl-C.")
		return nil
	}
	d.say("The service keeps running so you can look around: %s/ui/ (sign in with the token above).", d.url)
	if opts.Dir != "" {
		d.say("Press Ctrl-C to stop it; the database, keys, log and evidence pack stay in %s.", d.dir)
	} else {
		d.say("Press Ctrl-C to stop it and remove what the demo made (but the build cache volumes).")
	}
	<-ctx.Done()
	fmt.Fprintln(out)
	d.say("Stopping.")
	return nil
}

// demoPrerequisites checks that git is there, Docker answers and the runner
// image is built, saying what to do when not: the demo pulls nothing.
func demoPrerequisites(ctx context.Context, image string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("the demo builds its sample repository with git, which is not on PATH: install git")
	}
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("the demo runs suites in Docker, which does not answer (%v: %s): start Docker, or check that this user may use it (docker info)",
			err, strings.TrimSpace(string(out)))
	}
	if err := exec.CommandContext(ctx, "docker", "image", "inspect", image).Run(); err != nil {
		return fmt.Errorf("the demo's suites run in the image %s, which is not built: build it offline with scripts/images/build.sh (or: make images), then run the demo again", image)
	}
	return nil
}

// demoListen picks the address: the one asked for, else 127.0.0.1:8080, else
// (when that is taken) a free port, so that a second demo or a running
// patchgate does not stop it.
func demoListen(asked string) (string, error) {
	try := func(addr string) (string, error) {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return "", err
		}
		defer l.Close()
		return l.Addr().String(), nil
	}
	if asked != "" {
		addr, err := try(asked)
		if err != nil {
			return "", fmt.Errorf("--listen %s: %w (leave --listen out to take a free port)", asked, err)
		}
		return addr, nil
	}
	if addr, err := try("127.0.0.1:8080"); err == nil {
		return addr, nil
	}
	return try("127.0.0.1:0")
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (d *demo) logFile() string { return filepath.Join(d.dir, "patchgate.log") }

// startServices starts the fake forge, then patchgate configured for it, as
// `patchgate serve` would run with a configuration file naming them, and
// creates the newcomer's admin token as `patchgate token create` does.
func (d *demo) startServices(ctx context.Context, listen string) error {
	d.forge = fakeforge.New()
	forgeToken := randomSecret()
	d.forge.SetToken(forgeToken)
	d.secret = randomSecret()
	d.repoID = d.forge.AddRepo(demoRepo)
	for _, login := range []string{demoDeveloper, demoManager} {
		d.users[login] = d.forge.AddUser(login)
	}
	log, err := os.OpenFile(d.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		d.forge.Close()
		return err
	}
	cfg := DefaultConfig()
	cfg.Listen = listen
	cfg.PublicURL = "http://" + listen
	cfg.Database = "sqlite://" + filepath.Join(d.dir, "patchgate.db")
	cfg.Audit.KeyFile = defaultAuditKeyFile(cfg.Database, d.dir)
	cfg.Evidence.KeyFile = defaultEvidenceKeyFile(cfg.Database, d.dir)
	cfg.GitHub = ForgeConfig{APIURL: d.forge.GitHubAPIURL(), WebURL: d.forge.URL(), Token: forgeToken, WebhookSecrets: []string{d.secret}}
	cfg.Repos = []RepoConfig{{Forge: "github", Name: demoRepo, TicketKeys: []string{"PAY"}}}
	cfg.ReleaseManagers = map[string][]string{"github": {demoManager}}
	cfg.Runners.Workers = 1
	// One owner for every demo: its runs share the Go build cache volumes
	// (each database's containers are still its own, by instance).
	cfg.Runners.Owner = demoOwner
	// The story's webhooks say everything; nothing is missed to catch up on.
	cfg.Reconcile.Interval = 0
	cfg.Log.Level = "debug"
	cfg.Log.Format = "text"
	if err := cfg.Validate(); err != nil {
		d.forge.Close()
		return fmt.Errorf("the demo's configuration: %w", err)
	}
	d.main = NewMain(cfg, newLogger(cfg.Log, log))
	d.main.onClose(log.Close)
	if err := d.main.Run(ctx); err != nil {
		d.forge.Close()
		return err
	}
	d.url = "http://" + d.main.Addr()
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		return err
	}
	if err := store.NewTokenService(d.main.DB).CreateToken(ctx, &patchgate.Token{Name: "newcomer", Role: patchgate.RoleAdmin, Hash: hash}); err != nil {
		return err
	}
	d.admin = secret
	d.forge.AddHook(demoRepo, d.url+"/webhooks/github", d.secret)
	return nil
}

// say prints one line of the story, with the time since the start.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "[%5s] %s\n", time.Since(d.start).Round(time.Second), fmt.Sprintf(format, args...))
}

// step opens a chapter of the story.
func (d *demo) step(n int, title string) {
	fmt.Fprintln(d.out)
	d.say("Step %d: %s", n, title)
}

// detail prints an indented line under a step.
func (d *demo) detail(format string, args ...any) {
	fmt.Fprintf(d.out, "        %s\n", fmt.Sprintf(format, args...))
}

// story drives the whole story; each step waits for what patchgate does and
// says what it did.
func (d *demo) story(ctx context.Context) error {
	d.say("patchgate %s is running the demo in %s", version, d.dir)
	d.detail("Dashboard: %s/ui/", d.url)
	d.detail("Sign in with this admin token: %s", d.admin)
	d.detail("Fake GitHub: %s (repository %s; patchgate's webhook is registered on it)", d.forge.URL(), demoRepo)
	d.detail("Server log: %s", d.logFile())
	d.detail("Open the dashboard now to watch each step as it happens.")

	// People: the help desk files tickets, rita releases.
	var err error
	if d.tracker, err = d.createToken(ctx, "helpdesk", patchgate.RoleTracker); err != nil {
		return err
	}
	if d.manager, err = d.createToken(ctx, demoManager, patchgate.RoleReleaseManager, "github:"+demoManager); err != nil {
		return err
	}

	d.step(1, "the sample repository")
	if d.repo, err = newDemoGit(ctx, filepath.Join(d.dir, "payments"), d.forge); err != nil {
		return err
	}
	base, err := d.repo.commitDir(ctx, "main", "payments: refunds in whole cents")
	if err != nil {
		return err
	}
	d.forge.SetBranch(demoRepo, "main", base)
	d.detail("%s at %s: refund.Cents(15) pays 1 cent where 2 are due, and no test notices.", demoRepo, base[:7])
	d.detail(".patchgate.yml runs `go test -v ./...` in %s and wants 1 approval and a fail-to-pass proof.", demoImage)

	d.step(2, "a ticket comes in")
	title := "Refunds of half a cent are paid rounded down"
	if err := d.call(ctx, d.tracker, http.MethodPut, "/api/v1/tickets/"+demoTicket,
		map[string]any{"title": title, "severity": "high", "opened_at": time.Now().UTC()}, nil); err != nil {
		return err
	}
	ticket, err := d.ticket(ctx)
	if err != nil {
		return err
	}
	d.detail("The help desk records %s (severity high) through the ticket API: %s", demoTicket, title)
	d.detail("patchgate tracks it from now on, SLA clock included: %s/ui/tickets/%d", d.url, ticket.ID)

	d.step(3, "a fix whose suite fails")
	if _, err := d.repo.git(ctx, "checkout", "-q", "-b", "fix/"+demoTicket); err != nil {
		return err
	}
	first, err := d.repo.commitDir(ctx, "fix-1", demoTicket+": round half-cent refunds up")
	if err != nil {
		return err
	}
	prTitle := demoTicket + ": round half-cent refunds away from zero"
	if err := d.pullRequest("opened", prTitle, first, base, "", ""); err != nil {
		return err
	}
	d.detail("%s opens pull request #%d, \"Fixes %s\", at %s: a regression test and a fix.", demoDeveloper, demoPR, demoTicket, first[:7])
	d.detail("GitHub (the fake) POSTs a signed pull_request webhook; patchgate links #%d to %s and runs the suite in a container.", demoPR, demoTicket)
	d.detail("(A first demo compiles Go's standard library into a cache volume: a minute or two on two cores; later runs take seconds.)")
	v, err := d.waitVerification(ctx, first)
	if err != nil {
		return err
	}
	if v.State != patchgate.RunFailure {
		return fmt.Errorf("the first push's verification: got %s (%s), want a failure: the fix forgets negative refunds", v.State, v.Reason)
	}
	d.detail("Verdict: %s. %s", v.State, suitesLine(v))
	d.detail("The fix forgot charge-backs (negative amounts); the forge shows patchgate/verdict %s on %s.", d.status(first, "patchgate/verdict"), first[:7])
	proof, err := d.waitProof(ctx, v.ID)
	if err != nil {
		return err
	}
	d.detail("Proof: %s: %s", proof.State, proof.Description)
	if ticket, err = d.ticket(ctx); err != nil {
		return err
	}
	d.detail("%s is %s: a fix is proposed, not verified.", demoTicket, ticket.State)
	d.detail("See it: %s/ui/verifications/%d", d.url, v.ID)

	d.step(4, "a corrected push passes, with proof")
	second, err := d.repo.commitDir(ctx, "fix-2", demoTicket+": round negative refunds away from zero too")
	if err != nil {
		return err
	}
	if err := d.pullRequest("synchronize", prTitle, second, base, first, ""); err != nil {
		return err
	}
	d.detail("%s pushes %s; the synchronize webhook makes patchgate verify the new head.", demoDeveloper, second[:7])
	if v, err = d.waitVerification(ctx, second); err != nil {
		return err
	}
	if v.State != patchgate.RunSuccess {
		return fmt.Errorf("the corrected push's verification: got %s (%s), want success", v.State, v.Reason)
	}
	d.detail("Verdict: %s. %s", v.State, suitesLine(v))
	if proof, err = d.waitProof(ctx, v.ID); err != nil {
		return err
	}
	if proof.State != patchgate.ProofHolds {
		return fmt.Errorf("the proof of %s: got %s (%s), want it to hold", second[:7], proof.State, proof.Description)
	}
	d.detail("Proof: %s: %s", proof.State, proof.Description)
	d.detail("(the new test ran on %s without the fix and failed, then on %s with it and passed)", proof.BaseSHA[:7], second[:7])
	if ticket, err = d.waitTicket(ctx, patchgate.TicketFixVerified); err != nil {
		return err
	}
	d.detail("%s is now %s: %s/ui/verifications/%d", demoTicket, ticket.State, d.url, v.ID)

	d.step(5, "the fix is merged; patchgate proposes a release candidate")
	if _, err := d.repo.git(ctx, "checkout", "-q", "main"); err != nil {
		return err
	}
	if _, err := d.repo.git(ctx, "merge", "-q", "--no-ff", "-m", fmt.Sprintf("Merge pull request #%d from fix/%s", demoPR, demoTicket), "fix/"+demoTicket); err != nil {
		return err
	}
	merge, err := d.repo.mirrorHead(ctx, "Merge pull request #7")
	if err != nil {
		return err
	}
	d.forge.SetBranch(demoRepo, "main", merge)
	if err := d.pullRequest("closed", prTitle, second, base, "", merge); err != nil {
		return err
	}
	if err := d.push(base, merge, fmt.Sprintf("Merge pull request #%d from fix/%s", demoPR, demoTicket)); err != nil {
		return err
	}
	d.detail("#%d is merged as %s; the pull_request (closed, merged) and push webhooks arrive.", demoPR, merge[:7])
	if v, err = d.waitVerification(ctx, merge); err != nil {
		return err
	}
	if v.State != patchgate.RunSuccess {
		return fmt.Errorf("the merge commit's verification: got %s (%s), want success", v.State, v.Reason)
	}
	d.detail("main at %s verified again: %s. %s", merge[:7], v.State, suitesLine(v))
	cand, err := d.waitCandidate(ctx, merge)
	if err != nil {
		return err
	}
	d.detail("patchgate proposed candidate %s (#%d) at %s, containing %s.", cand.Name, cand.ID, merge[:7], demoTicket)
	eval, err := d.evaluation(ctx, cand.ID)
	if err != nil {
		return err
	}
	if eval.Releasable {
		d.detail("Its evidence is complete (verified fix, proof, suites on the candidate's commit);")
		d.detail("it has %d of the %d approval(s) its policy needs, so it waits for a release manager.", eval.Approvals, eval.Needed)
	}
	for _, b := range eval.Blockers {
		d.detail("Not releasable yet: %s", b.Message)
	}
	d.detail("See it: %s/ui/releases/%d", d.url, cand.ID)

	d.step(6, "a release manager approves")
	if err := d.call(ctx, d.manager, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", cand.ID), map[string]string{"sha": merge}, nil); err != nil {
		return err
	}
	if eval, err = d.evaluation(ctx, cand.ID); err != nil {
		return err
	}
	if !eval.Releasable {
		return fmt.Errorf("after %s's approval candidate %d is not releasable: %+v", demoManager, cand.ID, eval.Blockers)
	}
	d.detail("%s (not the fix's author: authors may not approve) approves at %s: %d of %d approvals; releasable.", demoManager, merge[:7], eval.Approvals, eval.Needed)
	d.detail("(the same as: patchgate release approve %d --server %s --token %s)", cand.ID, d.url, d.manager)

	d.step(7, "the release is promoted, with its evidence pack")
	var promoted struct{ Release patchgate.Candidate }
	if err := d.call(ctx, d.manager, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/promote", cand.ID), nil, &promoted); err != nil {
		return err
	}
	if promoted.Release.State != patchgate.CandidatePromoted {
		return fmt.Errorf("promotion of candidate %d: got state %s, want promoted", cand.ID, promoted.Release.State)
	}
	tag := d.forge.Tags(demoRepo)[cand.Name]
	d.detail("%s promotes it: the forge now has tag %s at %s and a release whose notes list %s.", demoManager, cand.Name, shortOr(tag), demoTicket)
	if ticket, err = d.waitTicket(ctx, patchgate.TicketReleased); err != nil {
		return err
	}
	d.detail("%s is %s.", demoTicket, ticket.State)
	pack, pub, err := d.savePack(ctx, cand)
	if err != nil {
		return err
	}
	d.detail("The signed evidence pack (in-toto statements: the suites, the proof, the approval, the policy):")
	d.detail("  %s", pack)
	d.detail("Checked offline with only patchgate's public key, as an auditor would:")
	d.detail("  patchgate evidence verify %s --key %s", pack, pub)
	var report bytes.Buffer
	verify := newEvidenceVerifyCommand()
	verify.SetOut(&report)
	verify.SetErr(&report)
	verify.SetArgs([]string{pack, "--key", pub, "--tag", cand.Name, "--sha", merge})
	verr := verify.ExecuteContext(ctx)
	for _, line := range strings.Split(strings.TrimSpace(report.String()), "\n") {
		d.detail("  | %s", line)
	}
	if verr != nil {
		return verr
	}

	fmt.Fprintln(d.out)
	d.say("Done in %s: %s went from ticket to release %s, on evidence.", time.Since(d.start).Round(time.Second), demoTicket, cand.Name)
	d.detail("Dashboard: %s/ui/  (token: %s)", d.url, d.admin)
	d.detail("The release: %s/ui/releases/%d; the ticket: %s/ui/tickets/%d; the audit log: %s/ui/audit", d.url, cand.ID, d.url, ticket.ID, d.url)
	d.detail("The Go build cache stays in Docker volumes for the next demo; to remove them:")
	d.detail("  docker volume rm $(docker volume ls -q --filter label=%s=%s)", testenv.LabelOwner, demoOwner)
	return nil
}

func shortOr(sha string) string {
	if len(sha) >= 7 {
		return sha[:7]
	}
	return "(none)"
}

// suitesLine says how each suite of v ended.
func suitesLine(v patchgate.Verification) string {
	var parts []string
	for _, s := range v.Suites {
		parts = append(parts, fmt.Sprintf("suite %s: %s (%s)", s.Name, s.State, s.Description))
	}
	return strings.Join(parts, "; ")
}

// call sends a JSON request to the API with token and decodes the answer into
// out; an answer other than 2xx is an error carrying the server's message.
func (d *demo) call(ctx context.Context, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.url+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(raw)))
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, raw, err)
		}
	}
	return nil
}

// createToken creates an API token through the API, as an admin does, and
// returns its secret.
func (d *demo) createToken(ctx context.Context, name string, role patchgate.Role, users ...string) (string, error) {
	var out struct{ Secret string }
	body := map[string]any{"name": name, "role": string(role)}
	if len(users) > 0 {
		body["users"] = users
	}
	if err := d.call(ctx, d.admin, http.MethodPost, "/api/v1/tokens", body, &out); err != nil {
		return "", err
	}
	return out.Secret, nil
}

// poll calls check every half second until it reports done, for at most
// timeout; what is waited for names the error.
func poll(ctx context.Context, timeout time.Duration, what string, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitVerification waits for the verification of sha to end. Containers on
// a busy machine are slow: the wait is long.
func (d *demo) waitVerification(ctx context.Context, sha string) (patchgate.Verification, error) {
	var v patchgate.Verification
	said := false
	err := poll(ctx, 10*time.Minute, "the verification of "+sha[:7], func() (bool, error) {
		var out struct{ Verifications []patchgate.Verification }
		if err := d.call(ctx, d.admin, http.MethodGet, "/api/v1/verifications?sha="+sha, nil, &out); err != nil {
			return false, err
		}
		if len(out.Verifications) == 0 {
			return false, nil
		}
		v = out.Verifications[0]
		if !said && v.State == patchgate.RunRunning {
			d.say("Verification %d of %s is running (watch its log live: %s/ui/verifications/%d)", v.ID, sha[:7], d.url, v.ID)
			said = true
		}
		return v.State.Final(), nil
	})
	if err != nil {
		return v, err
	}
	// The list leaves the suites out; the detail has them.
	var detail struct{ Verification patchgate.Verification }
	err = d.call(ctx, d.admin, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", v.ID), nil, &detail)
	return detail.Verification, err
}

// waitProof waits for the proof of verification id.
func (d *demo) waitProof(ctx context.Context, id int64) (*patchgate.Proof, error) {
	var proof *patchgate.Proof
	err := poll(ctx, 2*time.Minute, fmt.Sprintf("the proof of verification %d", id), func() (bool, error) {
		var detail struct{ Proof *patchgate.Proof }
		err := d.call(ctx, d.admin, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", id), nil, &detail)
		proof = detail.Proof
		return proof != nil, err
	})
	return proof, err
}

// ticket reads the story's ticket.
func (d *demo) ticket(ctx context.Context) (patchgate.Ticket, error) {
	var out struct {
		Ticket patchgate.Ticket `json:"ticket"`
	}
	err := d.call(ctx, d.admin, http.MethodGet, "/api/v1/tickets/"+demoTicket, nil, &out)
	return out.Ticket, err
}

func (d *demo) waitTicket(ctx context.Context, want patchgate.TicketState) (patchgate.Ticket, error) {
	var t patchgate.Ticket
	err := poll(ctx, time.Minute, demoTicket+" becoming "+string(want), func() (bool, error) {
		var err error
		t, err = d.ticket(ctx)
		return t.State == want, err
	})
	if err != nil && t.State != "" {
		err = fmt.Errorf("%w (it is %s)", err, t.State)
	}
	return t, err
}

// waitCandidate waits for patchgate's own candidate at sha.
func (d *demo) waitCandidate(ctx context.Context, sha string) (patchgate.Candidate, error) {
	var found patchgate.Candidate
	err := poll(ctx, time.Minute, "a release candidate at "+sha[:7], func() (bool, error) {
		var list struct{ Releases []patchgate.Candidate }
		if err := d.call(ctx, d.admin, http.MethodGet, "/api/v1/releases?state=open", nil, &list); err != nil {
			return false, err
		}
		for _, c := range list.Releases {
			if c.SHA == sha {
				found = c
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

func (d *demo) evaluation(ctx context.Context, id int64) (patchgate.Evaluation, error) {
	var out struct{ Evaluation patchgate.Evaluation }
	err := d.call(ctx, d.admin, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", id), nil, &out)
	return out.Evaluation, err
}

// status is the last state of context on sha on the forge.
func (d *demo) status(sha, context string) string {
	last := "(none)"
	for _, s := range d.forge.Statuses(demoRepo, sha) {
		if s.Context == context {
			last = s.State
		}
	}
	return last
}

// savePack downloads the candidate's evidence pack from the API and
// patchgate's public key (as `patchgate evidence key` prints it) into the
// demo's directory; it returns both paths.
func (d *demo) savePack(ctx context.Context, cand patchgate.Candidate) (pack, pub string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/releases/%d/evidence", d.url, cand.ID), nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+d.manager)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GET the evidence pack of candidate %d: %s: %s", cand.ID, resp.Status, data)
	}
	pack = filepath.Join(d.dir, patchgate.EvidenceFileName(cand.Name))
	if err := os.WriteFile(pack, data, 0o644); err != nil {
		return "", "", err
	}
	key, err := loadEvidenceKey(d.main.Config, false)
	if err != nil {
		return "", "", err
	}
	pub = filepath.Join(d.dir, "patchgate.pub")
	return pack, pub, os.WriteFile(pub, key.PublicPEM(), 0o644)
}

// The webhooks: the fake forge signs and POSTs each to patchgate, as GitHub
// does; they are built from go-github's types, the shapes GitHub sends.

func (d *demo) ghRepo() *github.Repository {
	owner, name, _ := strings.Cut(demoRepo, "/")
	return &github.Repository{ID: github.Int64(d.repoID), Name: github.String(name), FullName: github.String(demoRepo),
		Owner: &github.User{Login: github.String(owner)}, DefaultBranch: github.String("main"),
		HTMLURL: github.String(d.forge.URL() + "/" + demoRepo)}
}

func (d *demo) ghUser(login string) *github.User {
	return &github.User{Login: github.String(login), ID: github.Int64(d.users[login])}
}

// deliver has the forge send event to patchgate's hook; patchgate must accept it.
func (d *demo) deliver(event string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	guid := randomSecret()
	for _, code := range d.forge.Deliver(demoRepo, event, guid, body) {
		if code != http.StatusAccepted {
			return fmt.Errorf("the %s webhook %s: patchgate answered %d, want 202 (see %s)", event, guid, code, d.logFile())
		}
	}
	return nil
}

// pullRequest sends a pull_request delivery of the story's pull request at
// head on base; before is the previous head of a synchronize, merge the merge
// commit of a closed (merged) one. The forge's own record of the pull
// request follows.
func (d *demo) pullRequest(action, title, head, base, before, merge string) error {
	branch := "fix/" + demoTicket
	pr := &github.PullRequest{
		Number: github.Int(demoPR), Title: github.String(title), Body: github.String("Fixes " + demoTicket),
		State: github.String("open"), User: d.ghUser(demoDeveloper),
		HTMLURL:   github.String(fmt.Sprintf("%s/%s/pull/%d", d.forge.URL(), demoRepo, demoPR)),
		UpdatedAt: &github.Timestamp{Time: time.Now().UTC()},
		Head:      &github.PullRequestBranch{Ref: github.String(branch), SHA: github.String(head), Repo: d.ghRepo()},
		Base:      &github.PullRequestBranch{Ref: github.String("main"), SHA: github.String(base), Repo: d.ghRepo()},
	}
	state := fakeforge.PullRequest{Number: demoPR, Title: title, Author: demoDeveloper, HeadSHA: head, HeadRef: branch, BaseRef: "main"}
	if merge != "" {
		pr.State, pr.Merged, pr.MergeCommitSHA = github.String("closed"), github.Bool(true), github.String(merge)
		state.State, state.MergeCommitSHA = "merged", merge
	}
	d.forge.AddPullRequest(demoRepo, state)
	ev := github.PullRequestEvent{Action: github.String(action), Number: github.Int(demoPR), PullRequest: pr,
		Repo: d.ghRepo(), Sender: d.ghUser(demoDeveloper)}
	if before != "" {
		ev.Before, ev.After = github.String(before), github.String(head)
	}
	return d.deliver("pull_request", ev)
}

// push sends the push of after onto main.
func (d *demo) push(before, after, message string) error {
	owner, name, _ := strings.Cut(demoRepo, "/")
	commit := &github.HeadCommit{ID: github.String(after), Message: github.String(message),
		Author: &github.CommitAuthor{Name: github.String(demoDeveloper), Login: github.String(demoDeveloper)}}
	return d.deliver("push", github.PushEvent{
		Ref: github.String("refs/heads/main"), Before: github.String(before), After: github.String(after),
		Commits: []*github.HeadCommit{commit}, HeadCommit: commit,
		Repo: &github.PushEventRepository{ID: github.Int64(d.repoID), Name: github.String(name), FullName: github.String(demoRepo),
			Owner: &github.User{Login: github.String(owner)}, DefaultBranch: github.String("main")},
		Pusher: &github.CommitAuthor{Name: github.String(demoDeveloper)}, Sender: d.ghUser(demoDeveloper),
	})
}

// demoGit is the sample repository: a real git repository whose commits are
// mirrored onto the fake forge, so patchgate fetches exactly the trees git
// made.
type demoGit struct {
	dir   string
	forge *fakeforge.Forge
}

func newDemoGit(ctx context.Context, dir string, forge *fakeforge.Forge) (*demoGit, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &demoGit{dir: dir, forge: forge}
	_, err := r.git(ctx, "init", "-q", "-b", "main")
	return r, err
}

func (r *demoGit) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=" + demoDeveloper, "-c", "user.email=" + demoDeveloper + "@example.com",
		"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			// git says some refusals (nothing to commit) on standard output.
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)+" "+string(out)))
		}
		return "", fmt.Errorf("git %s in %s: %w", strings.Join(args, " "), r.dir, err)
	}
	return string(out), nil
}

// commitDir writes the embedded files under demo/name into the work tree,
// commits them on the current branch and mirrors the commit onto the forge.
func (r *demoGit) commitDir(ctx context.Context, name, message string) (string, error) {
	root := "demo/" + name
	err := fs.WalkDir(demoFiles, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := demoFiles.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".txt")
		full := filepath.Join(r.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		return os.WriteFile(full, data, 0o644)
	})
	if err != nil {
		return "", err
	}
	if _, err := r.git(ctx, "add", "-A"); err != nil {
		return "", err
	}
	if _, err := r.git(ctx, "commit", "-q", "-m", message); err != nil {
		return "", err
	}
	return r.mirrorHead(ctx, message)
}

// mirrorHead gives the forge the commit at HEAD: its whole tree, less what
// its first parent had and it has not.
func (r *demoGit) mirrorHead(ctx context.Context, message string) (string, error) {
	out, err := r.git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	sha := strings.TrimSpace(out)
	out, err = r.git(ctx, "log", "-1", "--format=%P")
	if err != nil {
		return "", err
	}
	parents := strings.Fields(out)
	paths := func(rev string) ([]string, error) {
		out, err := r.git(ctx, "ls-tree", "-r", "--name-only", rev)
		return strings.Fields(out), err
	}
	files, err := paths(sha)
	if err != nil {
		return "", err
	}
	tree := map[string][]byte{}
	for _, p := range files {
		content, err := r.git(ctx, "show", sha+":"+p)
		if err != nil {
			return "", err
		}
		tree[p] = []byte(content)
	}
	if len(parents) > 0 {
		old, err := paths(parents[0])
		if err != nil {
			return "", err
		}
		for _, p := range old {
			if _, ok := tree[p]; !ok {
				tree[p] = nil
			}
		}
	}
	r.forge.AddCommit(demoRepo, sha, tree, message, demoDeveloper, parents...)
	return sha, nil
}
