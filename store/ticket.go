package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// TicketService stores tickets.
type TicketService struct {
	db *DB
	// DefaultLevel is the support level a new ticket starts at when it comes
	// with none (RepositoryDirectory.DefaultSupportLevel); nil leaves it unset.
	DefaultLevel func(t *patchgate.Ticket) patchgate.SupportLevel
}

var _ patchgate.TicketService = (*TicketService)(nil)

// NewTicketService returns the ticket service of db.
func NewTicketService(db *DB) *TicketService { return &TicketService{db: db} }

const ticketColumns = `id, tracker, key, repo, number, title, url, forge_state, labels,
	severity, state, author, forge_updated_at, opened_at, verified_at, released_at, reopened_at,
	created_at, updated_at, support_level`

// ticketDest returns the scan destinations of ticketColumns; finishTicket
// decodes what they cannot.
func ticketDest(t *patchgate.Ticket, labels *string) []any {
	return []any{&t.ID, &t.Tracker, &t.Key, &t.Repo, &t.Number, &t.Title, &t.URL, &t.ForgeState,
		labels, &t.Severity, &t.State, &t.Author, timeCol{&t.ForgeUpdatedAt}, timeCol{&t.OpenedAt},
		timeCol{&t.VerifiedAt}, timeCol{&t.ReleasedAt}, timeCol{&t.ReopenedAt}, timeCol{&t.CreatedAt},
		timeCol{&t.UpdatedAt}, &t.SupportLevel}
}

func finishTicket(t *patchgate.Ticket, labels string) error {
	if err := json.Unmarshal([]byte(labels), &t.Labels); err != nil {
		return fmt.Errorf("ticket %d labels: %w", t.ID, err)
	}
	if t.Labels == nil {
		t.Labels = []string{}
	}
	return nil
}

// scanTicket reads the ticketColumns of one row.
func scanTicket(sc interface{ Scan(...any) error }) (*patchgate.Ticket, error) {
	var t patchgate.Ticket
	var labels string
	if err := sc.Scan(ticketDest(&t, &labels)...); err != nil {
		return nil, err
	}
	return &t, finishTicket(&t, labels)
}

func labelsJSON(labels []string) string {
	if labels == nil {
		labels = []string{}
	}
	b, _ := json.Marshal(labels) // a []string always marshals
	return string(b)
}

// FindTicketByID returns ENOTFOUND when there is no such ticket.
func (s *TicketService) FindTicketByID(ctx context.Context, id int64) (*patchgate.Ticket, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findTicketByID(ctx, tx, id)
}

func findTicketByID(ctx context.Context, tx *txn, id int64) (*patchgate.Ticket, error) {
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "ticket %d", id)
	}
	return t, nil
}

// FindTicket finds a ticket by its identity; ENOTFOUND when absent.
func (s *TicketService) FindTicket(ctx context.Context, tracker patchgate.Tracker, key string) (*patchgate.Ticket, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findTicket(ctx, tx, tracker, key, "")
}

// findTicket finds a ticket by identity; lock is "" or forUpdate().
func findTicket(ctx context.Context, tx *txn, tracker patchgate.Tracker, key, lock string) (*patchgate.Ticket, error) {
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets
		WHERE tracker = $1 AND key = $2`+lock, tracker, key))
	if err != nil {
		return nil, notFound(err, "ticket %s:%s", tracker, key)
	}
	return t, nil
}

// FindTicketsByKey returns every ticket whose key is key, ignoring case
// (PAY-12, pay-12), oldest first: a key is unique per tracker only, so an
// external PAY-12 and one a second tracker reported are two tickets. None is an
// empty slice, not an error.
func (s *TicketService) FindTicketsByKey(ctx context.Context, key string) ([]*patchgate.Ticket, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE lower(key) = lower($1) ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("find tickets keyed %s: %w", key, err)
	}
	defer rows.Close()
	ts := []*patchgate.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("find tickets keyed %s: %w", key, err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tickets keyed %s: %w", key, err)
	}
	return ts, nil
}

// FindTickets returns matching tickets, newest first, and the total count.
func (s *TicketService) FindTickets(ctx context.Context, f patchgate.TicketFilter) ([]*patchgate.Ticket, int, error) {
	var w where
	if f.Tracker != nil {
		w.add("tracker = $?", *f.Tracker)
	}
	if f.Repo != nil {
		// A repository's tickets are its forge issues and the tickets its
		// changes are linked to: PAY-12 belongs to every repository that fixes it.
		p := w.arg(*f.Repo)
		w.conds = append(w.conds, `(repo = `+p+` OR id IN (SELECT l.ticket_id FROM links l
			JOIN changes c ON c.id = l.change_id WHERE c.repo = `+p+`))`)
	}
	if f.Key != nil {
		w.add("key = $?", *f.Key)
	}
	if f.State != nil {
		w.add("state = $?", *f.State)
	}
	if f.Severity != nil {
		w.add("severity = $?", *f.Severity)
	}
	if f.SupportLevel != nil {
		w.add("support_level = $?", *f.SupportLevel)
	}
	if f.Verified != nil {
		w.conds = append(w.conds, "verified_at IS "+notNull(*f.Verified))
	}
	if f.Released != nil {
		w.conds = append(w.conds, "released_at IS "+notNull(*f.Released))
	}

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM tickets`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count tickets: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets`+w.String()+
		` ORDER BY created_at DESC, id DESC`+w.page(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find tickets: %w", err)
	}
	defer rows.Close()
	ts := []*patchgate.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find tickets: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find tickets: %w", err)
	}
	return ts, total, nil
}

// toldLevel is the level the ticket's tracker last named (” for none): its
// news moves the ticket's level only when it differs.
func toldLevel(ctx context.Context, tx *txn, id int64) (string, error) {
	told := ""
	if err := tx.QueryRow(ctx, `SELECT told_level FROM tickets WHERE id = $1`, id).Scan(&told); err != nil {
		return "", fmt.Errorf("read the level told of ticket %d: %w", id, err)
	}
	return told, nil
}

// notNull is the IS operand that selects set (true) or unset (false) columns.
func notNull(set bool) string {
	if set {
		return "NOT NULL"
	}
	return "NULL"
}

// EnsureTicket returns the ticket with t's identity, creating it from t when
// absent (State defaults to open, Severity to unknown, OpenedAt to now). An
// existing ticket is returned unchanged.
func (s *TicketService) EnsureTicket(ctx context.Context, t *patchgate.Ticket) (*patchgate.Ticket, error) {
	nt := *t
	if nt.State == "" {
		nt.State = patchgate.TicketOpen
	}
	if nt.Severity == "" {
		nt.Severity = patchgate.SeverityUnknown
	}
	if err := nt.Validate(); err != nil {
		return nil, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	s.defaultLevel(&nt)
	got, err := ensureTicket(ctx, tx, &nt, s.db.now(), "")
	if err != nil {
		return nil, err
	}
	if err := s.db.recordTicket(ctx, tx, got.ID, patchgate.AuditActor(ctx)); err != nil {
		return nil, err
	}
	return got, tx.Commit()
}

// defaultLevel gives t, about to be created, the level it starts at when it
// has none.
func (s *TicketService) defaultLevel(t *patchgate.Ticket) {
	if t.SupportLevel == "" && s.DefaultLevel != nil {
		t.SupportLevel = s.DefaultLevel(t)
	}
}

// ensureTicket returns the stored ticket with t's identity, inserting t first
// (opened at t.OpenedAt, else now) when there is none; lock is "" or
// forUpdate(). It looks before it inserts so that PostgreSQL does not spend an
// identity value on every call. A concurrent
// insert of the same ticket makes ON CONFLICT wait for the other transaction,
// after which the second look sees its row.
func ensureTicket(ctx context.Context, tx *txn, t *patchgate.Ticket, now time.Time, lock string) (*patchgate.Ticket, error) {
	got, err := findTicket(ctx, tx, t.Tracker, t.Key, lock)
	if patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		return got, err
	}
	opened := t.OpenedAt
	if opened.IsZero() {
		opened = now
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tickets (tracker, key, repo, number, title, url, forge_state,
		labels, severity, state, author, forge_updated_at, opened_at, created_at, updated_at, support_level)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15)
		ON CONFLICT (tracker, key) DO NOTHING`,
		t.Tracker, t.Key, t.Repo, t.Number, t.Title, t.URL, t.ForgeState, labelsJSON(t.Labels),
		t.Severity, t.State, t.Author, t.ForgeUpdatedAt, opened, now, t.SupportLevel); err != nil {
		return nil, fmt.Errorf("ensure ticket %s:%s: %w", t.Tracker, t.Key, err)
	}
	return findTicket(ctx, tx, t.Tracker, t.Key, lock)
}

// ApplyIssueUpdate creates or updates a forge issue's ticket as
// patchgate.ApplyIssueUpdate decides, under a row lock.
func (s *TicketService) ApplyIssueUpdate(ctx context.Context, u patchgate.IssueUpdate) (*patchgate.Ticket, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	// Times are compared as stored, to the microsecond.
	u.UpdatedAt = u.UpdatedAt.UTC().Truncate(time.Microsecond)
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)

	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.db.now()
	seed, _ := patchgate.ApplyIssueUpdate(nil, u, now)
	s.defaultLevel(seed)
	t, err := ensureTicket(ctx, tx, seed, now, s.db.forUpdate())
	if err != nil {
		return nil, err
	}
	next, changed := patchgate.ApplyIssueUpdate(t, u, now)
	// A support:Lx label (of the labels now, which an older update leaves)
	// moves the level when the labels name a new one, so that labels left as
	// they were do not undo an escalation.
	told, err := toldLevel(ctx, tx, next.ID)
	if err != nil {
		return nil, err
	}
	if l := patchgate.SupportLevelFromLabels(next.Labels); l != "" && string(l) != told {
		next.SupportLevel, told, changed = l, string(l), true
	}
	if !changed {
		if err := s.db.recordTicket(ctx, tx, next.ID, patchgate.AuditActor(ctx)); err != nil {
			return nil, err
		}
		return next, tx.Commit()
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET repo = $1, number = $2, title = $3, url = $4,
		forge_state = $5, labels = $6, severity = $7, author = $8, forge_updated_at = $9, updated_at = $10,
		opened_at = $11, reopened_at = $12, support_level = $13, told_level = $14
		WHERE id = $15`,
		next.Repo, next.Number, next.Title, next.URL, next.ForgeState, labelsJSON(next.Labels), next.Severity,
		next.Author, next.ForgeUpdatedAt, next.UpdatedAt, next.OpenedAt, next.ReopenedAt, next.SupportLevel, told, next.ID); err != nil {
		return nil, fmt.Errorf("update ticket %s: %w", next.Key, err)
	}
	if err := s.db.recordTicket(ctx, tx, next.ID, patchgate.AuditActor(ctx)); err != nil {
		return nil, err
	}
	return next, tx.Commit()
}
