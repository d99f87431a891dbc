package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestDemoTellsTheStoryEndToEnd runs `patchgate demo --exit` as a newcomer
// would (real containers, the fake forge, webhooks) and checks what each step
// says happened; then a server started on the database the demo kept finds
// the story's end: PAY-7 released by a promoted candidate, an audit chain that
// verifies, and an evidence pack that `patchgate evidence verify` accepts
// with the public key the demo saved.
func TestDemoTellsTheStoryEndToEnd(t *testing.T) {
	requireDocker(t)
	dir := t.TempDir()
	out, err := execCLI("demo", "--exit", "--listen", "127.0.0.1:0", "--dir", dir)
	t.Logf("patchgate demo:\n%s", out)
	if err != nil {
		t.Fatalf("patchgate demo: %v", err)
	}
	for _, want := range []string{
		"Sign in with this admin token: pgt_",
		"Step 2: a ticket comes in",
		"Verdict: failure. suite regression: failure (failed: TestHalfCentsRoundAwayFromZero",
		"patchgate/verdict failure",
		"Verdict: success. suite regression: success",
		"Proof: holds: 1 test fails without the fix and passes with it",
		"PAY-7 is now fix_verified",
		"patchgate proposed candidate release-",
		"1 of 1 approvals; releasable",
		"PAY-7 is released.",
		": VALID",
		"proof holds, failed on",
		"approved by rita",
		"went from ticket to release",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output has no %q", want)
		}
	}

	// The story's end, as the database it kept has it.
	app := startApp(t, func(c *Config) {
		c.Database = "sqlite://" + filepath.Join(dir, "patchgate.db")
		c.Repos = []RepoConfig{{Forge: "github", Name: demoRepo, TicketKeys: []string{"PAY"}}}
		c.Runners.Workers = 0
	})
	if v := app.ticket(t, demoTicket); v.Ticket.State != patchgate.TicketReleased || v.Ticket.Title == "" {
		t.Errorf("%s: got %s %q, want released with the help desk's title", demoTicket, v.Ticket.State, v.Ticket.Title)
	}
	var list struct{ Releases []patchgate.Candidate }
	app.api(t, http.MethodGet, "/api/v1/releases?state=promoted", nil, &list)
	if len(list.Releases) != 1 || list.Releases[0].PromotedBy != demoManager {
		t.Fatalf("promoted candidates: got %+v, want one promoted by %s", list.Releases, demoManager)
	}
	cand := list.Releases[0]
	var verify struct{ OK bool }
	if code := app.api(t, http.MethodGet, "/api/v1/audit/verify", nil, &verify); code != http.StatusOK || !verify.OK {
		t.Errorf("audit verify: got %d %+v", code, verify)
	}
	pack := filepath.Join(dir, patchgate.EvidenceFileName(cand.Name))
	report := runCLI(t, "evidence", "verify", pack, "--key", filepath.Join(dir, "patchgate.pub"), "--tag", cand.Name, "--sha", cand.SHA)
	for _, want := range []string{": VALID", "ticket PAY-7 fixed in #7", "proof holds", "approved by rita", "suite regression PASSED"} {
		if !strings.Contains(report, want) {
			t.Errorf("evidence verify: got\n%s\nwant a line with %q", report, want)
		}
	}
}

// TestDemoSaysHowToBuildAMissingImage: without its runner image the demo
// stops before starting anything and names the command that builds it.
func TestDemoSaysHowToBuildAMissingImage(t *testing.T) {
	requireDocker(t)
	err := demoPrerequisites(context.Background(), "patchgate-test/no-such-image:0")
	if err == nil || !strings.Contains(err.Error(), "scripts/images/build.sh") || !strings.Contains(err.Error(), "patchgate-test/no-such-image:0") {
		t.Fatalf("got %v, want the missing image and scripts/images/build.sh named", err)
	}
	if err := demoPrerequisites(context.Background(), demoImage); err != nil {
		t.Fatalf("with the image built: %v", err)
	}
}

// TestDemoListenTakesAFreePortWhen8080IsTaken: the demo serves on
// 127.0.0.1:8080 unless something else does, then on a free port; an
// address asked for with --listen is that address or an error saying so.
func TestDemoListenTakesAFreePortWhen8080IsTaken(t *testing.T) {
	if l, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		defer l.Close()
	} // else it is taken already
	addr, err := demoListen("")
	if err != nil || addr == "127.0.0.1:8080" || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("8080 taken: got %q %v, want another port", addr, err)
	}
	if _, err := demoListen("127.0.0.1:8080"); err == nil || !strings.Contains(err.Error(), "--listen 127.0.0.1:8080") {
		t.Fatalf("--listen on a taken port: got %v, want an error naming --listen", err)
	}
}
