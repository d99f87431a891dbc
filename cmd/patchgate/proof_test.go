package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// The repository the proof tests fix: Round truncates instead of rounding
// half away from zero.
const (
	buggyRound = "package calc\n\nfunc Round(x float64) float64 { return float64(int(x)) }\n"
	fixedRound = "package calc\n\nimport \"math\"\n\nfunc Round(x float64) float64 { return math.Round(x) }\n"
	floorTest  = "package calc\n\nimport \"testing\"\n\nfunc TestFloor(t *testing.T) {\n\tif Round(2.2) != 2 {\n\t\tt.Fatal(\"Round(2.2) != 2\")\n\t}\n}\n"
	// Two regression tests that fail on the buggy Round.
	regressionTests = "package calc\n\nimport \"testing\"\n\nfunc TestRoundHalfUp(t *testing.T) {\n\tif got := Round(2.5); got != 3 {\n\t\tt.Fatalf(\"Round(2.5) = %v, want 3\", got)\n\t}\n}\n\nfunc TestRoundNegative(t *testing.T) {\n\tif got := Round(-2.5); got != -3 {\n\t\tt.Fatalf(\"Round(-2.5) = %v, want -3\", got)\n\t}\n}\n"
	// A test that passes on the buggy Round as well.
	wholeTest = "package calc\n\nimport \"testing\"\n\nfunc TestRoundWhole(t *testing.T) {\n\tif got := Round(4); got != 4 {\n\t\tt.Fatalf(\"Round(4) = %v, want 4\", got)\n\t}\n}\n"
)

// openFixPR sends a pull_request delivery for a change from branch at head
// onto base (its base SHA: where the proof runs without the fix).
func (a *testApp) openFixPR(t *testing.T, number int, title, branch, base, head string) {
	t.Helper()
	payload := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["action"], p["number"] = "opened", number
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["updated_at"] = number, title, "", time.Now().UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"] = head, branch
		obj(pr, "base")["ref"], obj(pr, "base")["sha"] = "main", base
	})
	id := fmt.Sprintf("pr-%d-opened-%s", number, head[:8])
	if code, ack := a.sendGitHub(t, "pull_request", id, payload, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("open #%d: got %d %+v", number, code, ack)
	}
}

// waitStatus waits for the last status of context on sha to be final.
func (a *testApp) waitStatus(t *testing.T, sha, context string) (state, description string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range a.forge.Statuses(testRepo, sha) {
			if s.Context == context {
				state, description = s.State, s.Description
			}
		}
		if state != "" && state != "pending" {
			return state, description
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no final %s status on %s (last %q)", context, sha, state)
	return "", ""
}

// TestProofOnRealWorldShapes runs the fail-to-pass proof through the whole
// patchgate with real containers and real go test, on three fix branches of
// one repository: one that adds regression tests and the fix (proof holds),
// one that adds only the tests (they fail on the base and on the head: no
// proof, verdict failure), and one whose new test passes on the base too (no
// proof: the test passes without the fix). With release.require_proof, only
// the first makes its ticket fix_verified.
func TestProofOnRealWorldShapes(t *testing.T) {
	requireDocker(t)
	app := startApp(t, func(c *Config) {
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Runners.Heartbeat = time.Second
		c.Runners.Workers = 3 // the three changes are verified side by side
	})
	repo := newGitRepo(t, app.forge, testRepo)
	config := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test -count=1 -v ./...\n    timeout: 5m\n    flaky_retries: 0\nrelease:\n  require_proof: true\n"
	base := repo.commit("calc", map[string][]byte{
		".patchgate.yml":    []byte(config),
		"go.mod":            []byte("module example.com/calc\n\ngo 1.26\n"),
		"calc/calc.go":      []byte(buggyRound),
		"calc/calc_test.go": []byte(floorTest),
	})
	branch := func(name, message string, files map[string][]byte) string {
		repo.git("checkout", "-q", "-B", name, base)
		return repo.commit(message, files)
	}
	withFix := branch("fix/PAY-1", "PAY-1: round half away from zero", map[string][]byte{
		"calc/calc.go": []byte(fixedRound), "calc/round_test.go": []byte(regressionTests),
	})
	testOnly := branch("fix/PAY-2", "PAY-2: test rounding", map[string][]byte{
		"calc/round_test.go": []byte(regressionTests),
	})
	passesOnBase := branch("fix/PAY-3", "PAY-3: round", map[string][]byte{
		"calc/calc.go": []byte(fixedRound), "calc/whole_test.go": []byte(wholeTest),
	})
	app.openFixPR(t, 1, "PAY-1: fix rounding", "fix/PAY-1", base, withFix)
	app.openFixPR(t, 2, "PAY-2: fix rounding", "fix/PAY-2", base, testOnly)
	app.openFixPR(t, 3, "PAY-3: fix rounding", "fix/PAY-3", base, passesOnBase)

	tests := []struct {
		name        string
		head        string
		verdict     patchgate.RunState
		proof       patchgate.ProofState
		status      string
		description string
		records     map[string]string // test → "base/head"
		ticket      string
		state       patchgate.TicketState // with release.require_proof
	}{
		{"regression tests and the fix", withFix, patchgate.RunSuccess, patchgate.ProofHolds, "success",
			"2 tests fail without the fix and pass with it",
			map[string]string{"TestRoundHalfUp": "failed/passed", "TestRoundNegative": "failed/passed"},
			"PAY-1", patchgate.TicketFixVerified},
		{"only the tests", testOnly, patchgate.RunFailure, patchgate.ProofFailure, "failure",
			"no proof: 2 tests fail with the fix",
			map[string]string{"TestRoundHalfUp": "failed/failed", "TestRoundNegative": "failed/failed"},
			"PAY-2", patchgate.TicketFixProposed},
		{"a test that passes without the fix", passesOnBase, patchgate.RunSuccess, patchgate.ProofNone, "failure",
			"no proof: test passes without the fix: calc/whole_test.go:TestRoundWhole",
			map[string]string{"TestRoundWhole": "passed/passed"},
			// It passed, but without proof it does not count.
			"PAY-3", patchgate.TicketFixProposed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := app.waitVerification(t, tt.head, final, 8*time.Minute)
			var detail struct {
				Verification patchgate.Verification
				Proof        *patchgate.Proof
			}
			app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", v.ID), nil, &detail)
			if v.State != tt.verdict {
				t.Errorf("verdict: got %s (%s), want %s", v.State, v.Reason, tt.verdict)
			}
			p := detail.Proof
			if p == nil {
				t.Fatalf("verification %d has no proof", v.ID)
			}
			t.Logf("proof: %s: %s; %+v", p.State, p.Description, p.Tests)
			if p.State != tt.proof || !strings.HasPrefix(p.Description, tt.description) || p.BaseSHA != base {
				t.Errorf("proof: got %s %q on %s, want %s %q on %s", p.State, p.Description, p.BaseSHA, tt.proof, tt.description, base)
			}
			got := map[string]string{}
			for _, r := range p.Tests {
				got[r.Name] = string(r.Base) + "/" + string(r.Head)
				if r.Base == patchgate.ProofFailed && !strings.Contains(r.BaseMessage, "want") {
					t.Errorf("%s: base message %q, want the failure message", r.Name, r.BaseMessage)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.records) {
				t.Errorf("records: got %v, want %v", got, tt.records)
			}
			state, desc := app.waitStatus(t, tt.head, patchgate.ProofStatusContext)
			if state != tt.status || !strings.HasPrefix(desc, tt.description) {
				t.Errorf("status %s: got %s %q, want %s %q", patchgate.ProofStatusContext, state, desc, tt.status, tt.description)
			}
			// The ticket state follows the verdict (after it is recorded).
			var ticketState patchgate.TicketState
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if ticketState = app.ticket(t, tt.ticket).Ticket.State; ticketState == tt.state {
					break
				}
			}
			if ticketState != tt.state {
				t.Errorf("%s: got %s, want %s (release.require_proof)", tt.ticket, ticketState, tt.state)
			}
		})
	}
}
