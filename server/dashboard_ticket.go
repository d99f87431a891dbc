package server

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// ticketsView is the tickets page: the filter form and the matching tickets.
type ticketsView struct {
	pageView
	Tickets []ticketView
	Total   int
	// Complete is false when an SLA filter did not read every ticket.
	Complete bool
	// Filter echoes the form; the options are the enum values.
	State, Severity, SLA, Repo, Level string
	States                            []patchgate.TicketState
	Severities                        []patchgate.Severity
	SLAStates                         []patchgate.SLAState
	Repos                             []string
	Levels                            []patchgate.SupportLevel
	// Next is the query of the next page, "" on the last.
	Next string
}

// handleTicketsPage serves GET /ui/tickets?state=&severity=&level=&sla=&repo=, the
// same filters and the same SLA scan as GET /api/v1/tickets.
func (s *Server) handleTicketsPage(c *gin.Context) {
	v := &ticketsView{pageView: pageView{Title: "Tickets", Nav: "tickets"}, Complete: true,
		States: []patchgate.TicketState{patchgate.TicketOpen, patchgate.TicketFixProposed, patchgate.TicketFixVerified,
			patchgate.TicketFixMerged, patchgate.TicketReleased, patchgate.TicketReopened},
		Severities: []patchgate.Severity{patchgate.SeverityCritical, patchgate.SeverityHigh, patchgate.SeverityMedium,
			patchgate.SeverityLow, patchgate.SeverityUnknown},
		SLAStates: []patchgate.SLAState{patchgate.SLAOnTrack, patchgate.SLAAtRisk, patchgate.SLABreached, patchgate.SLAMet},
		State:     c.Query("state"), Severity: c.Query("severity"), SLA: c.Query("sla"), Repo: c.Query("repo"),
		Level: c.Query("level"), Levels: patchgate.SupportLevels,
	}
	if s.Repos != nil {
		for _, r := range s.Repos.All() {
			v.Repos = append(v.Repos, r.Name)
		}
	}
	f, sla, err := s.ticketFilter(c)
	if err != nil {
		v.Error = patchgate.ErrorMessage(err)
		s.render(c, http.StatusBadRequest, "tickets", v)
		return
	}
	ctx := c.Request.Context()
	if sla != nil {
		v.Tickets, v.Total, v.Complete, err = s.findTicketsBySLA(ctx, f, *sla)
	} else {
		var tickets []*patchgate.Ticket
		tickets, v.Total, err = s.Tickets.FindTickets(ctx, f)
		for _, t := range tickets {
			v.Tickets = append(v.Tickets, ticketView{Ticket: t, SLA: s.slaOf(t)})
		}
	}
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	if len(v.Tickets) == f.Limit && (f.Offset+f.Limit < v.Total || !v.Complete) {
		q := c.Request.URL.Query()
		q.Set("offset", itoa(f.Offset+f.Limit))
		v.Next = q.Encode()
	}
	s.render(c, http.StatusOK, "tickets", v)
}

// ticketFilter reads the tickets filters, as the API reads them.
func (s *Server) ticketFilter(c *gin.Context) (f patchgate.TicketFilter, sla *patchgate.SLAState, err error) {
	if f.Offset, f.Limit, err = page(c); err != nil {
		return f, nil, err
	}
	if f.State, err = optEnum(c, "state", patchgate.TicketState.Validate); err != nil {
		return f, nil, err
	}
	if f.Severity, err = optEnum[patchgate.Severity](c, "severity", nil); err != nil {
		return f, nil, err
	}
	if sla, err = optEnum(c, "sla", patchgate.SLAState.Validate); err != nil {
		return f, nil, err
	}
	if f.SupportLevel, err = optEnum(c, "level", patchgate.SupportLevel.Validate); err != nil {
		return f, nil, err
	}
	f.Repo, f.Key = optString(c, "repo"), optString(c, "key")
	return f, sla, nil
}

// ticketPageView is one ticket: deadlines, fixing changes and state history.
type ticketPageView struct {
	pageView
	Ticket  ticketView
	Links   []*patchgate.Link
	History []*patchgate.AuditEntry
	// Escalations are the ticket's escalations, oldest first.
	Escalations []*patchgate.Escalation
}

// handleTicketPage serves GET /ui/tickets/:id.
func (s *Server) handleTicketPage(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	ctx := c.Request.Context()
	t, err := s.Tickets.FindTicketByID(ctx, id)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	v := &ticketPageView{pageView: pageView{Title: t.Key + ": " + t.Title, Nav: "tickets"}, Ticket: ticketView{Ticket: t, SLA: s.slaOf(t)}}
	if v.Links, err = s.Links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &id, Limit: 500}); err != nil {
		s.dashboardError(c, err)
		return
	}
	subject, action := "ticket:"+t.Key, patchgate.AuditTicketState
	if v.History, err = s.Audit.FindAudit(ctx, patchgate.AuditFilter{Subject: &subject, Action: &action, Limit: 500}); err != nil {
		s.dashboardError(c, err)
		return
	}
	if v.Escalations, err = s.escalationsOf(ctx, id); err != nil {
		s.dashboardError(c, err)
		return
	}
	s.render(c, http.StatusOK, "ticket", v)
}

// auditView is the audit page.
type auditView struct {
	pageView
	Entries []*patchgate.AuditEntry
	// The filters, echoed into the form.
	ByActor, ByAction, BySubject string
	// Next is the query of the next page, "" on the last.
	Next     string
	CanCheck bool
	// Checked is the result of "verify chain", when asked.
	Checked string
	Broken  string
	// Unaudited lists each record that does not match its audit entries.
	Unaudited []string
}

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 100

// handleAuditPage serves GET /ui/audit?actor=&action=&subject=&after=.
func (s *Server) handleAuditPage(c *gin.Context) {
	v, err := s.auditView(c)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	s.render(c, http.StatusOK, "audit", v)
}

func (s *Server) auditView(c *gin.Context) (*auditView, error) {
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	v := &auditView{pageView: pageView{Title: "Audit log", Nav: "audit"}, CanCheck: p.Role.Allows(patchgate.RoleAdmin),
		ByActor: c.Query("actor"), ByAction: c.Query("action"), BySubject: c.Query("subject")}
	after, err := intQuery(c, "after", 0)
	if err != nil {
		return nil, err
	}
	f := patchgate.AuditFilter{AfterSeq: int64(after), Limit: auditPageSize,
		Actor: optString(c, "actor"), Action: optString(c, "action"), Subject: optString(c, "subject")}
	if v.Entries, err = s.Audit.FindAudit(c.Request.Context(), f); err != nil {
		return nil, err
	}
	if len(v.Entries) == auditPageSize {
		q := url.Values{}
		for _, k := range []string{"actor", "action", "subject"} {
			if x := c.Query(k); x != "" {
				q.Set(k, x)
			}
		}
		q.Set("after", itoa(int(v.Entries[len(v.Entries)-1].Seq)))
		v.Next = q.Encode()
	}
	return v, nil
}

// handleAuditVerify serves POST /ui/audit/verify (admins): the same check as
// GET /api/v1/audit/verify (the chain, then every record against its entries),
// its result shown above the log.
func (s *Server) handleAuditVerify(c *gin.Context) {
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	if !p.Role.Allows(patchgate.RoleAdmin) {
		s.dashboardError(c, patchgate.Errorf(patchgate.EFORBIDDEN, "checking the chain needs the %s role", patchgate.RoleAdmin))
		return
	}
	v, err := s.auditView(c)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	rep, err := s.Audit.CheckAudit(c.Request.Context(), patchgate.AuditCheck{})
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	switch {
	case rep.Break != nil:
		v.Broken = rep.Break.Error()
	case len(rep.Unaudited) > 0:
		v.Broken = fmt.Sprintf("The chain holds (%d entries), but %d record(s) do not match their audit entries:", rep.Checked, len(rep.Unaudited))
	default:
		v.Checked = itoa(int(rep.Checked))
	}
	v.Unaudited = rep.Unaudited
	s.render(c, http.StatusOK, "audit", v)
}
