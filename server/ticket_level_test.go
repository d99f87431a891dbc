package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestTicketLevels: the tickets API filters on ?level=, shows each ticket's
// level, and a ticket's escalations on its page.
func TestTicketLevels(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	esc := store.NewEscalationService(ts.db)
	ts.srv.Escalations = esc
	var pay1 *patchgate.Ticket
	for key, level := range map[string]patchgate.SupportLevel{"PAY-1": patchgate.SupportL2, "PAY-2": patchgate.SupportL1, "PAY-3": patchgate.SupportL2} {
		tk, err := ts.tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: key, SupportLevel: level})
		if err != nil {
			t.Fatal(err)
		}
		if key == "PAY-1" {
			pay1 = tk
		}
	}
	var list struct {
		Tickets []struct {
			Key          string `json:"key"`
			SupportLevel string `json:"support_level"`
		} `json:"tickets"`
		Total int `json:"total"`
	}
	ts.get(t, "/api/v1/tickets?level=L2", http.StatusOK, &list)
	if list.Total != 2 || len(list.Tickets) != 2 {
		t.Fatalf("level=L2: %+v", list)
	}
	for _, tk := range list.Tickets {
		if tk.SupportLevel != "L2" || tk.Key == "PAY-2" {
			t.Errorf("level=L2 lists %+v", tk)
		}
	}
	ts.get(t, "/api/v1/tickets?level=L4", http.StatusOK, &list)
	if list.Total != 0 {
		t.Fatalf("level=L4: %+v", list)
	}
	ts.get(t, "/api/v1/tickets?level=L5", http.StatusBadRequest, nil)

	if _, err := esc.RecordEscalations(ctx, []*patchgate.Escalation{{TicketID: pay1.ID, Ticket: "PAY-1", OpenedAt: pay1.OpenedAt,
		Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLABreached, From: patchgate.SupportL2, To: patchgate.SupportL3,
		Deadline: pay1.OpenedAt.Add(8 * time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	var one struct {
		Ticket struct {
			SupportLevel string `json:"support_level"`
		} `json:"ticket"`
		Escalations []struct {
			From, To, Phase, Cause string
		} `json:"escalations"`
	}
	ts.get(t, "/api/v1/tickets/PAY-1", http.StatusOK, &one)
	if one.Ticket.SupportLevel != "L3" || len(one.Escalations) != 1 || one.Escalations[0].From != "L2" || one.Escalations[0].To != "L3" ||
		one.Escalations[0].Phase != "verify" || one.Escalations[0].Cause != "breached" {
		t.Fatalf("PAY-1: %+v", one)
	}
}
