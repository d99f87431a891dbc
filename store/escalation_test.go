package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testEscalations checks support levels on tickets and the escalation
// records and notices: each escalation once per ticket, clock, phase and
// cause or level, also through a second handle; notices claimed by one.
func testEscalations(t *testing.T, migrated func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := migrated(t)
	tickets := store.NewTicketService(db)
	tickets.DefaultLevel = func(t *patchgate.Ticket) patchgate.SupportLevel {
		if t.Key == "PAY-1" {
			return patchgate.SupportL2
		}
		return patchgate.SupportL1
	}
	pay1, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"})
	if err != nil {
		t.Fatal(err)
	}
	if pay1.SupportLevel != patchgate.SupportL2 {
		t.Fatalf("new PAY-1 at %q, want its default L2", pay1.SupportLevel)
	}
	l3 := patchgate.SupportL3
	res, err := tickets.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-2", SupportLevel: &l3, Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ticket.SupportLevel != patchgate.SupportL3 {
		t.Fatalf("PAY-2 created at L3 is at %q", res.Ticket.SupportLevel)
	}
	if _, err := tickets.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-3", Source: "api"}); err != nil {
		t.Fatal(err)
	}
	for level, want := range map[patchgate.SupportLevel][]string{patchgate.SupportL1: {"PAY-3"}, patchgate.SupportL2: {"PAY-1"},
		patchgate.SupportL3: {"PAY-2"}, patchgate.SupportL4: nil} {
		ts, total, err := tickets.FindTickets(ctx, patchgate.TicketFilter{SupportLevel: &level})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, tk := range ts {
			keys = append(keys, tk.Key)
		}
		if total != len(want) || len(keys) != len(want) || len(want) == 1 && keys[0] != want[0] {
			t.Errorf("level %s: got %v (total %d), want %v", level, keys, total, want)
		}
	}
	l1 := patchgate.SupportL1
	if res, err = tickets.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-2", SupportLevel: &l1, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	if res.Ticket.SupportLevel != patchgate.SupportL1 || len(res.Changed) != 1 || res.Changed[0] != "support_level" {
		t.Fatalf("PAY-2 set to L1: level %q, changed %v", res.Ticket.SupportLevel, res.Changed)
	}

	// A forge issue: its support: label sets the level when it comes in and
	// when it changes, not when it stays (as after an escalation).
	issue := func(labels ...string) *patchgate.Ticket {
		t.Helper()
		tk, err := tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/web", Number: 9,
			Title: "Broken", State: "open", Labels: labels, UpdatedAt: db.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	tickets.DefaultLevel = func(t *patchgate.Ticket) patchgate.SupportLevel { return patchgate.SupportLevelFromLabels(t.Labels) }
	if got := issue("support:L2").SupportLevel; got != patchgate.SupportL2 {
		t.Fatalf("issue labelled support:L2 came in at %q", got)
	}
	if _, err := store.NewEscalationService(db).RecordEscalations(ctx, []*patchgate.Escalation{{TicketID: issue().ID, Ticket: "acme/web#9",
		OpenedAt: issue().OpenedAt, Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLAAtRisk, From: patchgate.SupportL2, To: patchgate.SupportL3,
		Deadline: db.Now()}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := issue("support:L2").SupportLevel; got != patchgate.SupportL3 {
		t.Fatalf("issue escalated to L3, still labelled support:L2: at %q, want L3", got)
	}
	if got := issue("support:L3", "bug").SupportLevel; got != patchgate.SupportL3 {
		t.Fatalf("issue relabelled support:L3 at %q", got)
	}
	web9, _ := tickets.FindTicket(ctx, patchgate.TrackerGitHub, "acme/web#9")
	if _, err := store.NewEscalationService(db).RecordEscalations(ctx, []*patchgate.Escalation{{TicketID: web9.ID, Ticket: web9.Key,
		OpenedAt: web9.OpenedAt, Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLABreached, From: patchgate.SupportL3, To: patchgate.SupportL4,
		Deadline: web9.OpenedAt}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := issue("support:L3", "bug", "customer").SupportLevel; got != patchgate.SupportL4 {
		t.Fatalf("issue escalated to L4, its labels otherwise changed: at %q, want L4 still", got)
	}

	esc := store.NewEscalationService(db)
	opened := pay1.OpenedAt
	deadline := opened.Add(8 * time.Hour)
	atRisk := &patchgate.Escalation{TicketID: pay1.ID, Ticket: "PAY-1", OpenedAt: opened, Phase: patchgate.SLAPhaseVerify,
		Cause: patchgate.SLAAtRisk, From: patchgate.SupportL2, To: patchgate.SupportL3, Deadline: deadline}
	var built [][]*patchgate.Escalation
	notices := func(rec []*patchgate.Escalation) ([]*patchgate.EscalationNotice, error) {
		built = append(built, rec)
		ids := []int64{}
		for _, e := range rec {
			ids = append(ids, e.ID)
		}
		return []*patchgate.EscalationNotice{{Channel: "oncall", Kind: "slack", Body: []byte(`{"text":"x"}`), Escalations: ids}}, nil
	}
	rec, err := esc.RecordEscalations(ctx, []*patchgate.Escalation{atRisk}, notices)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 || rec[0].ID == 0 || rec[0].At.IsZero() || len(built) != 1 {
		t.Fatalf("first escalation: recorded %+v, notices built %d times", rec, len(built))
	}
	got, err := tickets.FindTicketByID(ctx, pay1.ID)
	if err != nil || got.SupportLevel != patchgate.SupportL3 {
		t.Fatalf("PAY-1 after escalating to L3: %v, %v", got, err)
	}
	// Again, through a second handle (another process, or after a restart):
	// the same cause, or another cause to the same level, is not recorded.
	odb := reopen(t, db)
	odb.Now = db.Now
	other := store.NewEscalationService(odb)
	sameLevel := *atRisk
	sameLevel.Cause, sameLevel.From = patchgate.SLABreached, patchgate.SupportL2
	for _, e := range []*patchgate.Escalation{atRisk, &sameLevel} {
		if rec, err := other.RecordEscalations(ctx, []*patchgate.Escalation{e}, notices); err != nil || len(rec) != 0 {
			t.Fatalf("repeated escalation %s→%s (%s): recorded %v, %v", e.From, e.To, e.Cause, rec, err)
		}
	}
	if len(built) != 1 {
		t.Fatalf("notices built %d times, want once", len(built))
	}
	// A sweep read PAY-3 at L1; a person set L3 before it recorded: the
	// stale escalation to L2 neither overwrites L3 nor is recorded.
	pay3, err := tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tickets.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-3", SupportLevel: &l3, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	late := &patchgate.Escalation{TicketID: pay3.ID, Ticket: "PAY-3", OpenedAt: pay3.OpenedAt, Phase: patchgate.SLAPhaseVerify,
		Cause: patchgate.SLAAtRisk, From: patchgate.SupportL1, To: patchgate.SupportL2, Deadline: deadline}
	if rec, err := esc.RecordEscalations(ctx, []*patchgate.Escalation{late}, nil); err != nil || len(rec) != 0 {
		t.Fatalf("stale escalation of PAY-3: recorded %v, %v", rec, err)
	}
	if got, err := tickets.FindTicketByID(ctx, pay3.ID); err != nil || got.SupportLevel != patchgate.SupportL3 {
		t.Fatalf("PAY-3 after a stale escalation: %v, %v; want L3 as the person set it", got, err)
	}
	if again, err := esc.RecordEscalations(ctx, []*patchgate.Escalation{{TicketID: pay3.ID, Ticket: "PAY-3", OpenedAt: pay3.OpenedAt,
		Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLAAtRisk, From: patchgate.SupportL3, To: patchgate.SupportL4, Deadline: deadline}}, nil); err != nil || len(again) != 1 {
		t.Fatalf("PAY-3 escalated from its current L3: recorded %v, %v", again, err)
	}
	breached := *atRisk
	breached.Cause, breached.From, breached.To = patchgate.SLABreached, patchgate.SupportL3, patchgate.SupportL4
	breached.Repo, breached.Supplier, breached.Contract = "acme/payments", "Acme Maintenance GmbH", "MC-17"
	if rec, err = other.RecordEscalations(ctx, []*patchgate.Escalation{&breached}, notices); err != nil || len(rec) != 1 {
		t.Fatalf("breach escalation: %v, %v", rec, err)
	}
	// PAY-2's tracker said L1 last. It says L1 again after PAY-2 escalated:
	// the escalation stands; it says L2: that is news.
	if _, err := esc.RecordEscalations(ctx, []*patchgate.Escalation{{TicketID: res.Ticket.ID, Ticket: "PAY-2", OpenedAt: res.Ticket.OpenedAt,
		Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLAAtRisk, From: patchgate.SupportL1, To: patchgate.SupportL2, Deadline: deadline}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		told, want patchgate.SupportLevel
	}{{patchgate.SupportL1, patchgate.SupportL2}, {patchgate.SupportL3, patchgate.SupportL3}} {
		r, err := tickets.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-2", SupportLevel: &tc.told, Source: "jira:acme"})
		if err != nil || r.Ticket.SupportLevel != tc.want {
			t.Fatalf("PAY-2 told %s after escalating to L2: at %v (%v), want %s", tc.told, r.Ticket, err, tc.want)
		}
	}
	all, err := esc.FindEscalations(ctx, pay1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].To != patchgate.SupportL3 || all[1].To != patchgate.SupportL4 || all[1].Supplier != "Acme Maintenance GmbH" ||
		all[1].Contract != "MC-17" || all[1].Ticket != "PAY-1" || !all[1].OpenedAt.Equal(opened) || !all[1].Deadline.Equal(deadline) {
		t.Fatalf("escalations of PAY-1: %+v %+v", all[0], all[len(all)-1])
	}
	subject, action := "ticket:PAY-1", patchgate.AuditTicketEscalated
	audit, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Subject: &subject, Action: &action, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 2 || audit[1].Detail["to"] != "L4" || audit[1].Detail["supplier"] != "Acme Maintenance GmbH" || audit[1].Detail["phase"] != "verify" {
		t.Fatalf("audit of the escalations: %v", audit)
	}

	// Notices: due at once, claimed by one, retried when failed, done when sent.
	now := db.Now().Add(time.Minute)
	due, err := esc.DueNotices(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].Channel != "oncall" || string(due[0].Body) != `{"text":"x"}` || len(due[0].Escalations) != 1 {
		t.Fatalf("due notices: %+v", due)
	}
	n := due[0]
	stale := *n
	if ok, err := esc.ClaimNotice(ctx, n, now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	if ok, err := other.ClaimNotice(ctx, &stale, now.Add(time.Minute)); err != nil || ok {
		t.Fatalf("second claim of a claimed notice: %v, %v", ok, err)
	}
	if err := esc.FinishNotice(ctx, n.ID, false, "502 Bad Gateway", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if due, _ := esc.DueNotices(ctx, now.Add(30*time.Minute), 10); len(due) != 1 || due[0].ID == n.ID {
		t.Fatalf("due before the retry: %+v", due)
	}
	due, _ = esc.DueNotices(ctx, now.Add(2*time.Hour), 10)
	if len(due) != 2 || due[0].ID != n.ID || due[0].Attempts != 1 || due[0].LastError != "502 Bad Gateway" {
		t.Fatalf("due at the retry: %+v", due)
	}
	if err := esc.FinishNotice(ctx, n.ID, true, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := esc.FinishNotice(ctx, due[1].ID, false, "404 Not Found", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if due, _ := esc.DueNotices(ctx, now.Add(48*time.Hour), 10); len(due) != 0 {
		t.Fatalf("sent and given-up notices are due again: %+v", due)
	}
}
