package patchgate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditTicketRecorded records what the reports read of a ticket (Subject
// "ticket:KEY", Detail as AuditTicketRecord encodes it), each time any of it
// changes, so that the reports can be recomputed from the audit log alone.
const AuditTicketRecorded = "ticket.recorded"

// auditTimeLayout is how the report's times are written into entries:
// microseconds, the precision both databases store.
const auditTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// AuditTicketRecord is the detail of t's ticket.recorded entry: identity,
// title, labels (one per line), severity and the SLA clock; a zero time is "".
func AuditTicketRecord(t *Ticket) map[string]string {
	ts := func(at time.Time) string {
		if at.IsZero() {
			return ""
		}
		return at.UTC().Format(auditTimeLayout)
	}
	r := map[string]string{"id": strconv.FormatInt(t.ID, 10), "tracker": string(t.Tracker), "repo": t.Repo,
		"number": strconv.Itoa(t.Number), "title": t.Title, "labels": strings.Join(t.Labels, "\n"),
		"severity": string(t.Severity), "opened_at": ts(t.OpenedAt), "verified_at": ts(t.VerifiedAt),
		"released_at": ts(t.ReleasedAt), "reopened_at": ts(t.ReopenedAt), "created_at": ts(t.CreatedAt)}
	if t.SupportLevel != "" { // tickets from before levels keep their records
		r["support_level"] = string(t.SupportLevel)
	}
	return r
}

// AuditTime is how an entry's detail records a time for the reports.
func AuditTime(at time.Time) string { return at.UTC().Format(auditTimeLayout) }

// ReportInputFromAudit rebuilds a report's evidence from the audit log
// alone: tickets from their latest ticket.recorded entries, promotions from
// candidate.created, candidate.renamed and release.promoted, and fixes links
// from link.created less link.removed. Entries must be in Seq order. A report
// computed from it equals one computed from the tables, which is how the log
// shows that the reported numbers were not edited.
func ReportInputFromAudit(entries []AuditEntry) (ReportInput, error) {
	in := ReportInput{Tickets: []*Ticket{}, Releases: []ReportRelease{}, FixLinks: []ReportFixLink{}}
	tickets := map[int64]*Ticket{}
	candidates := map[int64]*ReportRelease{}
	var promoted []int64
	links := map[string]ReportFixLink{}
	var linkOrder []string
	for _, e := range entries {
		bad := func(err error) error { return fmt.Errorf("audit entry %d (%s): %w", e.Seq, e.Action, err) }
		switch e.Action {
		case AuditTicketRecorded:
			t, err := ticketFromAudit(e)
			if err != nil {
				return in, bad(err)
			}
			tickets[t.ID] = t
		case AuditCandidateCreated:
			id, err := subjectID(e.Subject, "candidate:")
			if err != nil {
				return in, bad(err)
			}
			items, err := parseAuditItems(e.Detail["items"])
			if err != nil {
				return in, bad(err)
			}
			_, name, _ := strings.Cut(e.Detail["repo"], ":")
			candidates[id] = &ReportRelease{ID: id, Repo: name, Name: e.Detail["name"], Items: items}
		case AuditCandidateRenamed, AuditReleasePromoted:
			id, err := subjectID(e.Subject, "candidate:")
			if err != nil {
				return in, bad(err)
			}
			c := candidates[id]
			if c == nil {
				continue // created before the log began
			}
			c.Name = e.Detail["name"]
			if e.Action == AuditReleasePromoted && c.PromotedAt.IsZero() {
				if c.PromotedAt, err = time.Parse(auditTimeLayout, e.Detail["promoted_at"]); err != nil {
					return in, bad(fmt.Errorf("promoted_at: %w", err))
				}
				promoted = append(promoted, id)
			}
		case AuditLinkCreated, AuditLinkRemoved:
			if e.Detail["kind"] != string(LinkFixes) {
				continue
			}
			l, err := fixLinkFromAudit(e)
			if err != nil {
				return in, bad(err)
			}
			// A link is unique by ticket, change, source and commit.
			id := e.Detail["ticket_id"] + " " + e.Subject + " " + e.Detail["source"] + " " + e.SHA
			if e.Action == AuditLinkRemoved {
				delete(links, id)
				continue
			}
			if _, ok := links[id]; !ok {
				linkOrder = append(linkOrder, id)
			}
			links[id] = l
		}
	}
	for _, t := range tickets {
		in.Tickets = append(in.Tickets, t)
	}
	slices.SortFunc(in.Tickets, func(a, b *Ticket) int { return int(a.ID - b.ID) })
	for _, id := range promoted {
		in.Releases = append(in.Releases, *candidates[id])
	}
	for _, id := range linkOrder {
		if l, ok := links[id]; ok {
			in.FixLinks = append(in.FixLinks, l)
		}
	}
	return in, nil
}

// ticketFromAudit reads a ticket.recorded entry.
func ticketFromAudit(e AuditEntry) (*Ticket, error) {
	d := e.Detail
	t := &Ticket{Key: strings.TrimPrefix(e.Subject, "ticket:"), Tracker: Tracker(d["tracker"]), Repo: d["repo"],
		Title: d["title"], Severity: Severity(d["severity"]), Labels: []string{},
		SupportLevel: SupportLevel(d["support_level"])}
	var err error
	if t.ID, err = strconv.ParseInt(d["id"], 10, 64); err != nil {
		return nil, fmt.Errorf("ticket id: %w", err)
	}
	if t.Number, err = strconv.Atoi(d["number"]); err != nil {
		return nil, fmt.Errorf("ticket number: %w", err)
	}
	if d["labels"] != "" {
		t.Labels = strings.Split(d["labels"], "\n")
	}
	for key, dst := range map[string]*time.Time{"opened_at": &t.OpenedAt, "verified_at": &t.VerifiedAt,
		"released_at": &t.ReleasedAt, "reopened_at": &t.ReopenedAt, "created_at": &t.CreatedAt} {
		if d[key] == "" {
			continue
		}
		if *dst, err = time.Parse(auditTimeLayout, d[key]); err != nil {
			return nil, fmt.Errorf("ticket %s: %w", key, err)
		}
	}
	return t, nil
}

// fixLinkFromAudit reads a link entry whose detail names the ticket's id,
// the change's repository and when the link was made.
func fixLinkFromAudit(e AuditEntry) (ReportFixLink, error) {
	var l ReportFixLink
	var err error
	_, change, _ := strings.Cut(e.Subject, " change:")
	if l.ChangeID, err = strconv.ParseInt(change, 10, 64); err != nil {
		return l, fmt.Errorf("link subject %q: %w", e.Subject, err)
	}
	if l.TicketID, err = strconv.ParseInt(e.Detail["ticket_id"], 10, 64); err != nil {
		return l, fmt.Errorf("link ticket_id: %w", err)
	}
	if l.At, err = time.Parse(auditTimeLayout, e.Detail["at"]); err != nil {
		return l, fmt.Errorf("link at: %w", err)
	}
	l.Repo = e.Detail["repo"]
	return l, nil
}

// subjectID reads the id of a subject "prefixID".
func subjectID(subject, prefix string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(subject, prefix), 10, 64)
	if err != nil || !strings.HasPrefix(subject, prefix) {
		return 0, fmt.Errorf("subject %q: want %sID", subject, prefix)
	}
	return id, nil
}

// parseAuditItems reads the items AuditItems encodes.
func parseAuditItems(s string) ([]ReportItem, error) {
	items := []ReportItem{}
	if s == "" {
		return items, nil
	}
	for _, part := range strings.Split(s, ",") {
		change, ticket, ok := strings.Cut(part, "/")
		c, err1 := strconv.ParseInt(change, 10, 64)
		t, err2 := strconv.ParseInt(ticket, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("items %q: want change/ticket,…", s)
		}
		items = append(items, ReportItem{ChangeID: c, TicketID: t})
	}
	return items, nil
}
