package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// ticketView is a ticket as the tickets API shows it: with its SLA status now.
type ticketView struct {
	*patchgate.Ticket
	SLA patchgate.SLAStatus `json:"sla"`
}

// EscalationFinder finds a ticket's escalations (store.EscalationService).
type EscalationFinder interface {
	FindEscalations(ctx context.Context, ticketID int64) ([]*patchgate.Escalation, error)
}

// escalationsOf returns the ticket's escalations, oldest first; none when
// the server has no escalation store.
func (s *Server) escalationsOf(ctx context.Context, id int64) ([]*patchgate.Escalation, error) {
	if s.Escalations == nil {
		return []*patchgate.Escalation{}, nil
	}
	return s.Escalations.FindEscalations(ctx, id)
}

// slaOf returns t's SLA status now; none when the server has no SLA function.
func (s *Server) slaOf(t *patchgate.Ticket) patchgate.SLAStatus {
	if s.SLA == nil {
		return patchgate.SLAStatus{State: patchgate.SLANone}
	}
	return s.SLA(t)
}

// handleListTickets serves GET /api/v1/tickets?state=&severity=&level=&repo=&tracker=&key=&sla=.
func (s *Server) handleListTickets(c *gin.Context) {
	var (
		f   patchgate.TicketFilter
		err error
	)
	if f.Offset, f.Limit, err = page(c); err != nil {
		s.writeError(c, err)
		return
	}
	if f.State, err = optEnum(c, "state", patchgate.TicketState.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Severity, err = optEnum(c, "severity", patchgate.Severity.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Tracker, err = optEnum(c, "tracker", patchgate.Tracker.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	if f.SupportLevel, err = optEnum(c, "level", patchgate.SupportLevel.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	sla, err := optEnum(c, "sla", patchgate.SLAState.Validate)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f.Repo, f.Key = optString(c, "repo"), optString(c, "key")
	if sla != nil {
		views, found, complete, err := s.findTicketsBySLA(c.Request.Context(), f, *sla)
		if err != nil {
			s.writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"tickets": views, "total": found, "complete": complete})
		return
	}
	tickets, total, err := s.Tickets.FindTickets(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	views := make([]ticketView, len(tickets))
	for i, t := range tickets {
		views[i] = ticketView{Ticket: t, SLA: s.slaOf(t)}
	}
	c.JSON(http.StatusOK, gin.H{"tickets": views, "total": total})
}

// slaScanPage is how many tickets each store read of an SLA-filtered list takes.
const slaScanPage = 500

// findTicketsBySLA returns the page f.Offset, f.Limit of the tickets matching f
// whose SLA state is want, as a patchgate.SLATally over f's tickets read newest
// first until the page is full or the store has no more. found counts the
// matches in the tickets read; complete says whether that was all of f's
// tickets, so that found is the exact total (otherwise more may follow).
func (s *Server) findTicketsBySLA(ctx context.Context, f patchgate.TicketFilter, want patchgate.SLAState) (views []ticketView, found int, complete bool, err error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	tally := patchgate.SLATally{Want: want, Offset: f.Offset, Limit: min(limit, slaScanPage)}
	complete, err = scanTickets(ctx, s.Tickets, f, 0, func(ts []*patchgate.Ticket) bool { return tally.Add(ts, s.slaOf) })
	if err != nil {
		return nil, 0, false, err
	}
	views = make([]ticketView, len(tally.Matches))
	for i, m := range tally.Matches {
		views[i] = ticketView{Ticket: m.Ticket, SLA: m.SLA}
	}
	return views, tally.Counts[want], complete, nil
}

// scanTickets reads f's tickets newest first (f's own page ignored),
// slaScanPage at a time, and passes each page to each until each says stop,
// the store has no more, or most tickets were read (0: no cap; the last page
// is cut at most). complete says whether every one of f's tickets was read.
func scanTickets(ctx context.Context, tickets patchgate.TicketService, f patchgate.TicketFilter, most int,
	each func([]*patchgate.Ticket) (stop bool)) (complete bool, err error) {
	f.Offset, f.Limit = 0, slaScanPage
	for most <= 0 || f.Offset < most {
		ts, total, err := tickets.FindTickets(ctx, f)
		if err != nil {
			return false, err
		}
		page := ts
		if most > 0 {
			page = ts[:min(len(ts), most-f.Offset)]
		}
		stop := each(page)
		f.Offset += len(ts)
		if len(ts) < slaScanPage || f.Offset >= total {
			return true, nil
		}
		if stop {
			return false, nil
		}
	}
	return false, nil
}

// handleGetTicket serves GET /api/v1/tickets/:id, where :id is the ticket's
// id or its key (PAY-12, any case), with the ticket's SLA status, its links
// and their changes, and its state history from the audit log.
func (s *Server) handleGetTicket(c *gin.Context) {
	ctx := c.Request.Context()
	t, err := s.ticketByIDOrKey(ctx, c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &t.ID, Limit: 500})
	if err != nil {
		s.writeError(c, err)
		return
	}
	history := []*patchgate.AuditEntry{}
	if s.Audit != nil {
		subject, action := "ticket:"+t.Key, patchgate.AuditTicketState
		if history, err = s.Audit.FindAudit(ctx, patchgate.AuditFilter{Subject: &subject, Action: &action, Limit: 500}); err != nil {
			s.writeError(c, err)
			return
		}
	}
	escalations, err := s.escalationsOf(ctx, t.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ticket": ticketView{Ticket: t, SLA: s.slaOf(t)}, "links": links, "history": history,
		"escalations": escalations})
}

// ticketByIDOrKey finds the ticket a path names: all digits is an id,
// anything else a key. A key is unique per tracker only, so one that two
// trackers share is a conflict that lists the ids to ask for instead.
func (s *Server) ticketByIDOrKey(ctx context.Context, ref string) (*patchgate.Ticket, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if id <= 0 {
			return nil, patchgate.Errorf(patchgate.EINVALID, "ticket id %d: want a positive id or a key such as PAY-12", id)
		}
		return s.Tickets.FindTicketByID(ctx, id)
	}
	ts, err := s.Tickets.FindTicketsByKey(ctx, ref)
	if err != nil {
		return nil, err
	}
	switch len(ts) {
	case 0:
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no ticket %s: patchgate learns of a ticket when a change, a tracker or `patchgate ticket set` names it", ref)
	case 1:
		return ts[0], nil
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = fmt.Sprintf("%d (%s %s)", t.ID, t.Tracker, t.Key)
	}
	return nil, patchgate.Errorf(patchgate.ECONFLICT, "%d tickets are keyed %s: ask for one by id: %s", len(ts), ref, strings.Join(ids, ", "))
}
