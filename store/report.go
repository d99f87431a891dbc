package store

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// ReportService reads the evidence of the SLA and delivery reports.
type ReportService struct{ db *DB }

var _ patchgate.ReportService = (*ReportService)(nil)

// NewReportService returns the report service of db.
func NewReportService(db *DB) *ReportService { return &ReportService{db: db} }

// ReportInput reads, in one read-only snapshot, every ticket that existed by
// period.To, every promotion up to period.To (a report judges clocks no later
// than that) with its items, and every fixes link made by then with its
// change's repository. A report reads each once, so the cost is three
// indexed scans, whatever the number of groups.
func (s *ReportService) ReportInput(ctx context.Context, period patchgate.ReportPeriod) (patchgate.ReportInput, error) {
	var in patchgate.ReportInput
	if err := period.Validate(); err != nil {
		return in, err
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return in, err
	}
	defer tx.Rollback()
	if in.Tickets, err = reportTickets(ctx, tx, period); err != nil {
		return in, err
	}
	if in.Releases, err = reportReleases(ctx, tx, period); err != nil {
		return in, err
	}
	if in.FixLinks, err = reportFixLinks(ctx, tx, period); err != nil {
		return in, err
	}
	return in, tx.Commit()
}

func reportTickets(ctx context.Context, tx *txn, period patchgate.ReportPeriod) ([]*patchgate.Ticket, error) {
	rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE created_at <= $1 OR opened_at <= $1 ORDER BY id`, period.To)
	if err != nil {
		return nil, fmt.Errorf("read the report's tickets: %w", err)
	}
	defer rows.Close()
	tickets := []*patchgate.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("read the report's tickets: %w", err)
		}
		tickets = append(tickets, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the report's tickets: %w", err)
	}
	return tickets, nil
}

func reportReleases(ctx context.Context, tx *txn, period patchgate.ReportPeriod) ([]patchgate.ReportRelease, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.repo, c.name, c.promoted_at, i.change_id, COALESCE(i.ticket_id, 0)
		FROM candidates c JOIN candidate_items i ON i.candidate_id = c.id
		WHERE c.state = $1 AND c.promoted_at IS NOT NULL AND c.promoted_at <= $2
		ORDER BY c.id, i.seq`, patchgate.CandidatePromoted, period.To)
	if err != nil {
		return nil, fmt.Errorf("read the report's promotions: %w", err)
	}
	defer rows.Close()
	releases := []patchgate.ReportRelease{}
	for rows.Next() {
		var r patchgate.ReportRelease
		var it patchgate.ReportItem
		if err := rows.Scan(&r.ID, &r.Repo, &r.Name, timeCol{&r.PromotedAt}, &it.ChangeID, &it.TicketID); err != nil {
			return nil, fmt.Errorf("read the report's promotions: %w", err)
		}
		if n := len(releases); n == 0 || releases[n-1].ID != r.ID {
			releases = append(releases, r)
		}
		last := &releases[len(releases)-1]
		last.Items = append(last.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the report's promotions: %w", err)
	}
	return releases, nil
}

func reportFixLinks(ctx context.Context, tx *txn, period patchgate.ReportPeriod) ([]patchgate.ReportFixLink, error) {
	rows, err := tx.Query(ctx, `SELECT l.ticket_id, l.change_id, c.repo, l.created_at
		FROM links l JOIN changes c ON c.id = l.change_id
		WHERE l.kind = $1 AND l.created_at <= $2 ORDER BY l.id`, patchgate.LinkFixes, period.To)
	if err != nil {
		return nil, fmt.Errorf("read the report's fix links: %w", err)
	}
	defer rows.Close()
	links := []patchgate.ReportFixLink{}
	for rows.Next() {
		var l patchgate.ReportFixLink
		if err := rows.Scan(&l.TicketID, &l.ChangeID, &l.Repo, timeCol{&l.At}); err != nil {
			return nil, fmt.Errorf("read the report's fix links: %w", err)
		}
		links = append(links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the report's fix links: %w", err)
	}
	return links, nil
}
