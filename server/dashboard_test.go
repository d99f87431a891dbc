package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// TestDashboardPagesRender renders every page with a typical view: a template
// that does not parse or execute fails here, not on a user's screen, and a
// view field that shadows the page's (as an "Actor" filter once hid who is
// signed in) shows up as a missing header.
func TestDashboardPagesRender(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	actor := &patchgate.Principal{Name: "ops", Role: patchgate.RoleReleaseManager}
	pv := func() pageView { return pageView{Title: "T", Actor: actor, CSRF: "tok<en>", Flash: "done"} }
	cand := &patchgate.Candidate{ID: 3, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: strings.Repeat("a", 40), Name: "v1", State: patchgate.CandidateOpen,
		Items:     []*patchgate.CandidateItem{{ChangeID: 1, TicketID: 2, Change: &patchgate.Change{ID: 1, Number: 7, Title: "<script>x</script>"}, Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-7"}}},
		Approvals: []*patchgate.Approval{{Approver: "ops", ApproverID: 11, SHA: strings.Repeat("a", 40), Via: "dashboard", CreatedAt: now}}}
	card := &candidateCard{Candidate: cand, Eval: &patchgate.Evaluation{Releasable: true, Needed: 1, Approvals: 1}, Approvers: []string{"ops"},
		CanApprove: true, CanWithdraw: true, CanPromote: true, CSRFToken: "tok<en>"}
	sr := &patchgate.SuiteRun{ID: 1, Name: "regression", State: patchgate.RunRunning, StartedAt: &now}
	views := map[string]viewer{
		"repos": &reposView{pageView: pv(), Repos: []*patchgate.Repository{{Forge: patchgate.GitHub, Name: "acme/pay", Environments: []string{"production"}}}, CanCheck: true},
		"enforcement": &enforcementView{pageView: pv(), Repo: &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/pay"}, AppOnly: 1,
			E: &patchgate.Enforcement{Forge: patchgate.GitHub, Repo: "acme/pay", Branch: "main", Mode: "token",
				Gaps: []patchgate.Gap{{Setting: "rulesets (tag)", Problem: "<script>x</script>", Fix: "f", AppOnly: true}}}},
		"signin":   &signinView{pageView: pageView{Title: "Sign in"}, Guard: "g", Next: "/ui/"},
		"releases": &releasesView{pageView: pv(), Open: []*candidateCard{card}, Promoted: []*candidateCard{{Candidate: cand, Approvers: []string{"ops"}}}},
		"candidate": &candidateView{pageView: pv(), Card: card, Items: []itemView{{CandidateItem: cand.Items[0]}}, Audit: []*patchgate.AuditEntry{{Seq: 1, Actor: "ops", Detail: map[string]string{"via": "dashboard"}}},
			Authors: []string{"dev (id 12)", "<script>x</script>"}},
		"promote": &candidateView{pageView: pv(), Card: card},
		"tickets": &ticketsView{pageView: pv(), Tickets: []ticketView{{Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-7"}, SLA: patchgate.SLAStatus{State: patchgate.SLAAtRisk}}}, Total: 1, Complete: true, States: []patchgate.TicketState{patchgate.TicketOpen}},
		"ticket":  &ticketPageView{pageView: pv(), Ticket: ticketView{Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-7"}}, Links: []*patchgate.Link{{Kind: "fixes", Provenance: "Fixes PAY-7"}}, History: []*patchgate.AuditEntry{{Detail: map[string]string{"from": "open", "to": "fix_proposed"}}}},
		"verification": &verificationView{pageView: pv(), V: &patchgate.Verification{ID: 1, State: patchgate.RunRunning, StartedAt: &now},
			Suites: []suiteView{{SuiteRun: sr, Live: true, Log: "line\n", After: 5, Events: "/ui/verifications/1/suites/regression/events",
				Tests: []patchgate.TestResult{{Name: "TestX", Status: patchgate.TestFailed}}}}},
		"audit": &auditView{pageView: pv(), Entries: []*patchgate.AuditEntry{{Seq: 1}}, CanCheck: true, ByActor: "x"},
		"error": &errorView{pageView: pv(), Status: 404},
		"report_sla": &slaReportView{pageView: pv(), Report: &patchgate.SLAReport{Groups: []patchgate.SLAGroup{{Dimension: "severity", Value: "critical", Opened: 1}},
			Breaches: []patchgate.SLABreach{{TicketID: 2, Ticket: "<script>x</script>", Phase: patchgate.SLAPhaseVerify, LateSeconds: 7200}},
			Tickets:  []patchgate.SLAReportTicket{{ID: 2, Key: "PAY-7", Title: "<script>x</script>"}}},
			Breaches: newBarChart("c", "Breaches", "d", []string{"11-01"}, []int{1})},
		"report_delivery": &deliveryReportView{pageView: pv(), Report: &patchgate.DeliveryReport{Repos: []patchgate.DeliveryGroup{{Repo: "acme/pay"}},
			Promotions: []patchgate.DeliveryPromotion{{ID: 3, Name: "<script>x</script>", Tickets: []string{"PAY-7"}}},
			Failures:   []patchgate.DeliveryFailure{{Release: "v1", Kind: patchgate.FailureRegression, Ticket: "PAY-8"}}},
			Weekly: newBarChart("w", "Promotions", "d", []string{"11-01"}, []int{2}), LeadHis: newBarChart("l", "Lead", "d", []string{"<1h"}, []int{0})},
	}
	for _, name := range dashboardPages {
		t.Run(name, func(t *testing.T) {
			v, ok := views[name]
			if !ok {
				t.Fatalf("no view for page %s: add one here", name)
			}
			var buf bytes.Buffer
			if err := d.pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
				t.Fatalf("render: %v", err)
			}
			html := buf.String()
			if name != "signin" && !strings.Contains(html, `id="actor"`) {
				t.Errorf("got no signed-in actor in the header")
			}
			if strings.Contains(html, "<script>x</script>") || strings.Contains(html, "tok<en>") {
				t.Errorf("got unescaped attacker text")
			}
			if !strings.Contains(html, `<main id="main">`) || !strings.Contains(html, `lang="en"`) {
				t.Errorf("got no main landmark or language")
			}
			// People are shown with their forge user ids.
			if name == "candidate" && (!strings.Contains(html, "<td>ops (id 11)</td>") || !strings.Contains(html, `<span class="author">dev (id 12)</span>`)) {
				t.Errorf("got no approver or author with their user id")
			}
		})
	}
}

// TestSafeNext: sign-in redirects only inside the dashboard.
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ name, next, want string }{
		{"dashboard path", "/ui/releases/3", "/ui/releases/3"},
		{"empty", "", "/ui/"},
		{"other site", "https://evil.example/ui/", "/ui/"},
		{"scheme-relative", "//evil.example/ui/", "/ui/"},
		{"api", "/api/v1/tokens", "/ui/"},
		{"backslash", "/ui/\\evil", "/ui/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeNext(tc.next); got != tc.want {
				t.Errorf("safeNext(%q): got %q, want %q", tc.next, got, tc.want)
			}
		})
	}
}

// runningLog is a VerificationService with one running suite and an empty log.
type runningLog struct {
	patchgate.VerificationService
}

func (runningLog) FindVerificationByID(ctx context.Context, id int64) (*patchgate.Verification, error) {
	return &patchgate.Verification{ID: id, Suites: []*patchgate.SuiteRun{{ID: 1, Name: "regression", State: patchgate.RunRunning}}}, nil
}

func (runningLog) ReadLog(ctx context.Context, suiteRunID, offset int64) ([]byte, bool, error) {
	return []byte{}, false, nil
}

// TestLogStreamEndsOnShutdown: a live log stream ends when the server shuts
// down, instead of holding http.Server.Shutdown until its deadline.
func TestLogStreamEndsOnShutdown(t *testing.T) {
	s := &Server{Verifications: runningLog{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), streams: make(chan struct{})}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/ui/verifications/1/suites/regression/events", nil)
	c.Params = gin.Params{{Key: "id", Value: "1"}, {Key: "suite", Value: "regression"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.handleLogEvents(c)
	}()
	s.CloseStreams()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end after CloseStreams")
	}
	if got := w.Body.String(); !strings.HasPrefix(got, ": ping\n\n") {
		t.Errorf("stream: got %q, want a ping first", got)
	}
}

// TestReportCharts checks the charts' layout: bars scale to the tallest,
// every bar carries its value as text, and labels thin out when more weeks
// than fit at 360 px would collide; the lead-time histogram bins promotions
// at the right bounds and leaves out those that shipped no linked fix.
func TestReportCharts(t *testing.T) {
	c := newBarChart("c", "T", "D", []string{"a", "b", "c"}, []int{1, 3, 0})
	var heights []int
	var values, labels []string
	for _, b := range c.Bars {
		heights, values, labels = append(heights, b.H), append(values, b.Value), append(labels, b.Label)
		if b.Y+b.H != c.Baseline {
			t.Errorf("bar %s: y %d + height %d, want it to stand on the axis at %d", b.Label, b.Y, b.H, c.Baseline)
		}
	}
	// The plot is 200 - 36 - 24 = 140 units high.
	if want := []int{46, 140, 0}; !slices.Equal(heights, want) {
		t.Errorf("heights = %v, want %v", heights, want)
	}
	if !slices.Equal(values, []string{"1", "3", "0"}) || !slices.Equal(labels, []string{"a", "b", "c"}) {
		t.Errorf("values %v labels %v, want every bar's value and label", values, labels)
	}
	weeks := make([]int, 13)
	names := make([]string, 13)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	wide := newBarChart("w", "T", "D", names, weeks)
	var shown []string
	for _, b := range wide.Bars {
		if b.Label != "" {
			shown = append(shown, b.Label)
		}
	}
	// 360/13 = 27 units a bar: a label needs 44, so every second bar has one.
	if want := []string{"a", "c", "e", "g", "i", "k", "m"}; !slices.Equal(shown, want) {
		t.Errorf("13 weeks: labels %v, want %v", shown, want)
	}
	secs := func(d time.Duration) *int64 { s := int64(d / time.Second); return &s }
	_, counts := leadTimeHistogram([]patchgate.DeliveryPromotion{{LeadTimeSeconds: secs(30 * time.Minute)},
		{LeadTimeSeconds: secs(time.Hour)}, {LeadTimeSeconds: secs(5 * 24 * time.Hour)}, {LeadTimeSeconds: secs(20 * 24 * time.Hour)}, {}})
	if want := []int{1, 1, 0, 0, 1, 0, 1}; !slices.Equal(counts, want) {
		t.Errorf("lead-time histogram = %v, want %v", counts, want)
	}
}
