package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestDashboardTicketLevels: the tickets page filters on the level and shows
// it; a ticket's page shows its level and its escalations, an L4 one with the
// supplier and contract, all escaped.
func TestDashboardTicketLevels(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	actor := &patchgate.Principal{Name: "ops", Role: patchgate.RoleViewer}
	render := func(page string, v viewer) string {
		t.Helper()
		var buf bytes.Buffer
		if err := d.pages[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
			t.Fatalf("render %s: %v", page, err)
		}
		return buf.String()
	}
	list := render("tickets", &ticketsView{pageView: pageView{Title: "Tickets", Actor: actor}, Complete: true, Total: 2,
		Levels: patchgate.SupportLevels, Level: "L4",
		Tickets: []ticketView{{Ticket: &patchgate.Ticket{ID: 1, Key: "PAY-1", SupportLevel: patchgate.SupportL4}},
			{Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-2"}}}})
	for _, want := range []string{`<option value="L4" selected>L4 outside supplier</option>`, `<option value="L2" >L2 technical support</option>`,
		`<th scope="col">Level</th>`, `<abbr title="outside supplier">L4</abbr>`, `<span class="muted">–</span>`} {
		if !strings.Contains(list, want) {
			t.Errorf("tickets page lacks %s", want)
		}
	}
	at := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	page := render("ticket", &ticketPageView{pageView: pageView{Title: "PAY-1", Actor: actor},
		Ticket: ticketView{Ticket: &patchgate.Ticket{ID: 1, Key: "PAY-1", SupportLevel: patchgate.SupportL4}},
		Escalations: []*patchgate.Escalation{
			{From: patchgate.SupportL2, To: patchgate.SupportL3, Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLAAtRisk, Deadline: at, At: at},
			{From: patchgate.SupportL3, To: patchgate.SupportL4, Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLABreached, Deadline: at, At: at,
				Supplier: "<script>x</script>", Contract: "MC-17"}}})
	for _, want := range []string{`<dd id="ticket-level">L4 outside supplier</dd>`, `<ol id="escalations">`,
		`L2 → <strong>L3 experts</strong>, verify <span class="warn">at risk</span>`,
		`L3 → <strong>L4 outside supplier</strong>, verify <span class="bad">deadline breached</span>`,
		`supplier &lt;script&gt;x&lt;/script&gt;, contract MC-17`} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>x</script>") {
		t.Error("ticket page has unescaped text")
	}
	none := render("ticket", &ticketPageView{pageView: pageView{Title: "PAY-2", Actor: actor}, Ticket: ticketView{Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-2"}}})
	if !strings.Contains(none, "Not escalated.") || !strings.Contains(none, "patchgate ticket set PAY-2 --level L1") {
		t.Errorf("an unescalated ticket without a level: %s", none)
	}
}

// TestCandidatePageShowsTicketLevels: a candidate's tickets carry their
// support level, as everywhere tickets are listed.
func TestCandidatePageShowsTicketLevels(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	cand := &patchgate.Candidate{ID: 3, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: strings.Repeat("a", 40), Name: "v1.6.0", State: patchgate.CandidateOpen}
	v := &candidateView{pageView: pageView{Title: "T", Actor: &patchgate.Principal{Name: "ops", Role: patchgate.RoleViewer}},
		Card: &candidateCard{Candidate: cand},
		Items: []itemView{
			{CandidateItem: &patchgate.CandidateItem{Ticket: &patchgate.Ticket{ID: 1, Key: "PAY-1", SupportLevel: patchgate.SupportL3}}},
			{CandidateItem: &patchgate.CandidateItem{Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-2"}}}}}
	var buf bytes.Buffer
	if err := d.pages["candidate"].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if !strings.Contains(html, `<abbr class="level" title="experts">L3</abbr>`) {
		t.Errorf("the candidate page does not show PAY-1's level:\n%s", html)
	}
	if n := strings.Count(html, `class="level"`); n != 1 {
		t.Errorf("%d levels shown, want 1 (PAY-2 has none)", n)
	}
}
