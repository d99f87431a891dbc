package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// LinkService stores ticket ↔ change links and the pairs users unlinked by hand.
type LinkService struct{ db *DB }

var _ patchgate.LinkService = (*LinkService)(nil)

// NewLinkService returns the link service of db.
func NewLinkService(db *DB) *LinkService { return &LinkService{db: db} }

const linkColumns = `id, ticket_id, change_id, commit_sha, kind, source, provenance, created_by, created_at`

func linkDest(l *patchgate.Link) []any {
	return []any{&l.ID, &l.TicketID, &l.ChangeID, &l.CommitSHA, &l.Kind, &l.Source, &l.Provenance,
		&l.CreatedBy, timeCol{&l.CreatedAt}}
}

// FindLinks returns matching links, oldest first, with Ticket and Change filled.
func (s *LinkService) FindLinks(ctx context.Context, f patchgate.LinkFilter) ([]*patchgate.Link, error) {
	var w where
	if f.TicketID != nil {
		w.add("l.ticket_id = $?", *f.TicketID)
	}
	if f.ChangeID != nil {
		w.add("l.change_id = $?", *f.ChangeID)
	}
	if f.Source != nil {
		w.add("l.source = $?", *f.Source)
	}

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+qualify("l", linkColumns)+`, `+qualify("t", ticketColumns)+`, `+
		qualify("c", changeColumns)+`
		FROM links l JOIN tickets t ON t.id = l.ticket_id JOIN changes c ON c.id = l.change_id`+
		w.String()+` ORDER BY l.id`+w.page(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("find links: %w", err)
	}
	defer rows.Close()
	ls := []*patchgate.Link{}
	for rows.Next() {
		l := &patchgate.Link{Ticket: &patchgate.Ticket{}, Change: &patchgate.Change{}}
		var labels string
		dest := append(append(linkDest(l), ticketDest(l.Ticket, &labels)...), changeDest(l.Change)...)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("find links: %w", err)
		}
		if err := finishTicket(l.Ticket, labels); err != nil {
			return nil, fmt.Errorf("find links: %w", err)
		}
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find links: %w", err)
	}
	return ls, nil
}

// SyncExtractedLinks makes the extracted links of one change from the given
// sources equal to want, as patchgate.SyncLinks decides, with the change locked.
// Each link added or removed is audited, with patchgate as the actor.
// ENOTFOUND if the change does not exist; EINVALID for a manual source or a
// wanted link of another change or source.
func (s *LinkService) SyncExtractedLinks(ctx context.Context, changeID int64, sources []patchgate.LinkSource, want []*patchgate.Link) (added, removed []*patchgate.Link, err error) {
	// Checked before the transaction, so that a bad request takes no lock.
	if _, err := patchgate.SyncLinks(changeID, sources, nil, want, nil, time.Time{}); err != nil {
		return nil, nil, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	if err := s.lockChange(ctx, tx, changeID); err != nil {
		return nil, nil, err
	}
	suppressed, err := suppressedTickets(ctx, tx, changeID)
	if err != nil {
		return nil, nil, err
	}

	var w where
	w.add("change_id = $?", changeID)
	ph := make([]string, 0, len(sources))
	for _, src := range sources {
		ph = append(ph, w.arg(src))
	}
	stored := []*patchgate.Link{}
	if len(sources) > 0 {
		w.conds = append(w.conds, "source IN ("+strings.Join(ph, ", ")+")")
		rows, err := tx.Query(ctx, `SELECT `+linkColumns+` FROM links`+w.String()+` ORDER BY id`, w.args...)
		if err != nil {
			return nil, nil, fmt.Errorf("sync links of change %d: %w", changeID, err)
		}
		for rows.Next() {
			l := &patchgate.Link{}
			if err := rows.Scan(linkDest(l)...); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("sync links of change %d: %w", changeID, err)
			}
			stored = append(stored, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("sync links of change %d: %w", changeID, err)
		}
	}

	sync, err := patchgate.SyncLinks(changeID, sources, stored, want, suppressed, s.db.now())
	if err != nil {
		return nil, nil, err
	}
	for _, l := range sync.Update {
		if _, err := tx.Exec(ctx, `UPDATE links SET provenance = $1 WHERE id = $2`, l.Provenance, l.ID); err != nil {
			return nil, nil, fmt.Errorf("update link %d: %w", l.ID, err)
		}
	}
	for _, l := range sync.Remove {
		if _, err := tx.Exec(ctx, `DELETE FROM links WHERE id = $1`, l.ID); err != nil {
			return nil, nil, fmt.Errorf("remove link %d: %w", l.ID, err)
		}
	}
	for _, l := range sync.Add {
		if err := insertLink(ctx, tx, l); err != nil {
			return nil, nil, err
		}
	}
	added, removed = sync.Add, sync.Remove
	// Extraction is patchgate's own doing, whoever's request made it look.
	if err := s.auditLinks(ctx, tx, patchgate.SystemActor, removed, added); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	return added, removed, nil
}

// lockChange checks that a change exists and, on PostgreSQL, locks its row until
// the transaction ends, so that syncs, manual links and unlinks of one change run
// one after the other (SQLite's write transactions already do). ENOTFOUND if the
// change does not exist.
func (s *LinkService) lockChange(ctx context.Context, tx *txn, changeID int64) error {
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM changes WHERE id = $1`+s.db.forUpdate(), changeID).Scan(&id); err != nil {
		return notFound(err, "change %d", changeID)
	}
	return nil
}

// suppressedTickets returns the tickets a user unlinked from a change by hand.
func suppressedTickets(ctx context.Context, tx *txn, changeID int64) (map[int64]bool, error) {
	rows, err := tx.Query(ctx, `SELECT ticket_id FROM link_suppressions WHERE change_id = $1`, changeID)
	if err != nil {
		return nil, fmt.Errorf("read unlinked tickets of change %d: %w", changeID, err)
	}
	defer rows.Close()
	m := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read unlinked tickets of change %d: %w", changeID, err)
		}
		m[id] = true
	}
	return m, rows.Err()
}

// insertLink stores l and sets its ID.
func insertLink(ctx context.Context, tx *txn, l *patchgate.Link) error {
	err := tx.QueryRow(ctx, `INSERT INTO links (ticket_id, change_id, commit_sha, kind, source, provenance,
		created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		l.TicketID, l.ChangeID, l.CommitSHA, l.Kind, l.Source, l.Provenance, l.CreatedBy, l.CreatedAt).Scan(&l.ID)
	if err != nil {
		return fmt.Errorf("link ticket %d to change %d: %w", l.TicketID, l.ChangeID, err)
	}
	return nil
}

// CreateManualLink links a ticket and a change by hand and lifts an earlier
// manual unlink of the pair. Source defaults to manual and Kind to fixes;
// CreatedBy is required. It sets l.ID and l.CreatedAt. ENOTFOUND if the ticket or
// change does not exist, ECONFLICT if the same manual link exists. Audited as
// link.created, by the context's principal (else CreatedBy).
func (s *LinkService) CreateManualLink(ctx context.Context, l *patchgate.Link) error {
	if l.Source == "" {
		l.Source = patchgate.SourceManual
	}
	if l.Kind == "" {
		l.Kind = patchgate.LinkFixes
	}
	if l.Source != patchgate.SourceManual {
		return patchgate.Errorf(patchgate.EINVALID, "a manual link needs source manual, not %q", l.Source)
	}
	if l.CreatedBy == "" {
		return patchgate.Errorf(patchgate.EINVALID, "a manual link needs who made it")
	}
	if l.CommitSHA != "" && !patchgate.ValidSHA(l.CommitSHA) {
		return patchgate.Errorf(patchgate.EINVALID, "commit %q is not a commit SHA", l.CommitSHA)
	}
	if err := l.Validate(); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ticket, err := findTicketByID(ctx, tx, l.TicketID)
	if err != nil {
		return err
	}
	if err := s.lockChange(ctx, tx, l.ChangeID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM link_suppressions WHERE ticket_id = $1 AND change_id = $2`,
		l.TicketID, l.ChangeID); err != nil {
		return fmt.Errorf("lift unlink of ticket %d and change %d: %w", l.TicketID, l.ChangeID, err)
	}
	l.CreatedAt = s.db.now()
	if err := insertLink(ctx, tx, l); err != nil {
		if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
			return patchgate.Errorf(patchgate.ECONFLICT, "ticket %d is already linked to change %d by hand", l.TicketID, l.ChangeID)
		}
		return err
	}
	repo, err := changeRepo(ctx, tx, l.ChangeID)
	if err != nil {
		return err
	}
	if err := s.db.appendAudit(ctx, tx, linkEntry(actorOr(ctx, l.CreatedBy), patchgate.AuditLinkCreated, ticket.Key, repo, l)); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteLinks removes every link between a ticket and a change, of every
// source, and records that by did so, so extraction does not bring them back.
// ENOTFOUND if there was none. Audited as one link.removed per link, by the
// context's principal (else by).
func (s *LinkService) DeleteLinks(ctx context.Context, ticketID, changeID int64, by string) error {
	if by == "" {
		return patchgate.Errorf(patchgate.EINVALID, "unlink: who unlinks is required")
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.lockChange(ctx, tx, changeID); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `DELETE FROM links WHERE ticket_id = $1 AND change_id = $2 RETURNING `+linkColumns,
		ticketID, changeID)
	if err != nil {
		return fmt.Errorf("unlink ticket %d and change %d: %w", ticketID, changeID, err)
	}
	removed, err := scanLinks(rows)
	if err != nil {
		return fmt.Errorf("unlink ticket %d and change %d: %w", ticketID, changeID, err)
	}
	if len(removed) == 0 {
		return patchgate.Errorf(patchgate.ENOTFOUND, "ticket %d and change %d are not linked", ticketID, changeID)
	}
	slices.SortFunc(removed, func(a, b *patchgate.Link) int { return cmp.Compare(a.ID, b.ID) }) // RETURNING has no order
	if _, err := tx.Exec(ctx, `INSERT INTO link_suppressions (ticket_id, change_id, created_by, created_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (ticket_id, change_id) DO UPDATE SET created_by = excluded.created_by, created_at = excluded.created_at`,
		ticketID, changeID, by, s.db.now()); err != nil {
		return fmt.Errorf("remember unlink of ticket %d and change %d: %w", ticketID, changeID, err)
	}
	if err := s.auditLinks(ctx, tx, actorOr(ctx, by), removed, nil); err != nil {
		return err
	}
	return tx.Commit()
}

// scanLinks reads links without their ticket and change, and closes rows.
func scanLinks(rows *sql.Rows) ([]*patchgate.Link, error) {
	defer rows.Close()
	ls := []*patchgate.Link{}
	for rows.Next() {
		l := &patchgate.Link{}
		if err := rows.Scan(linkDest(l)...); err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

// auditLinks appends a link.removed entry for each removed link, then a
// link.created entry for each added one.
func (s *LinkService) auditLinks(ctx context.Context, tx *txn, actor string, removed, added []*patchgate.Link) error {
	keys := map[int64]string{}
	for _, l := range append(slices.Clip(removed), added...) {
		if _, ok := keys[l.TicketID]; ok {
			continue
		}
		var key string
		if err := tx.QueryRow(ctx, `SELECT key FROM tickets WHERE id = $1`, l.TicketID).Scan(&key); err != nil {
			return notFound(err, "ticket %d", l.TicketID)
		}
		keys[l.TicketID] = key
	}
	repos := map[int64]string{}
	for _, l := range append(slices.Clip(removed), added...) {
		if _, ok := repos[l.ChangeID]; !ok {
			repo, err := changeRepo(ctx, tx, l.ChangeID)
			if err != nil {
				return err
			}
			repos[l.ChangeID] = repo
		}
	}
	for _, l := range removed {
		if err := s.db.appendAudit(ctx, tx, linkEntry(actor, patchgate.AuditLinkRemoved, keys[l.TicketID], repos[l.ChangeID], l)); err != nil {
			return err
		}
	}
	for _, l := range added {
		if err := s.db.appendAudit(ctx, tx, linkEntry(actor, patchgate.AuditLinkCreated, keys[l.TicketID], repos[l.ChangeID], l)); err != nil {
			return err
		}
	}
	return nil
}

// changeRepo is the repository (acme/payments) of change id.
func changeRepo(ctx context.Context, tx *txn, id int64) (string, error) {
	var repo string
	if err := tx.QueryRow(ctx, `SELECT repo FROM changes WHERE id = $1`, id).Scan(&repo); err != nil {
		return "", notFound(err, "change %d", id)
	}
	return repo, nil
}

// linkEntry is the audit entry of a link made or removed: the subject names the
// pair, the detail says what kind of link it was and why it existed.
func linkEntry(actor, action, ticketKey, repo string, l *patchgate.Link) patchgate.AuditEntry {
	// The ticket's id, the change's repository and the link's time let
	// the reports be recomputed from the log (patchgate.ReportInputFromAudit).
	detail := map[string]string{"kind": string(l.Kind), "source": string(l.Source), "ticket_id": strconv.FormatInt(l.TicketID, 10),
		"repo": repo, "at": patchgate.AuditTime(l.CreatedAt)}
	if l.Provenance != "" {
		detail["provenance"] = l.Provenance
	}
	return patchgate.AuditEntry{Actor: actor, Action: action,
		Subject: fmt.Sprintf("ticket:%s change:%d", ticketKey, l.ChangeID), SHA: l.CommitSHA, Detail: detail}
}
