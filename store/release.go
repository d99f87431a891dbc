package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/patchgate/patchgate"
)

// ReleaseService stores release candidates with their items, approvals and
// promotions.
//
// Writers of one candidate run one after the other: on SQLite every write
// transaction holds the write lock from BEGIN, on PostgreSQL the candidate's row
// is locked with FOR UPDATE first. CreateCandidate additionally serialises with
// the other creators of the same repository (see lockCandidates), so that it
// leaves exactly one open candidate however many race.
type ReleaseService struct{ db *DB }

var _ patchgate.ReleaseService = (*ReleaseService)(nil)

// NewReleaseService returns the release service of db.
func NewReleaseService(db *DB) *ReleaseService { return &ReleaseService{db: db} }

const candidateColumns = `id, forge, repo, branch, sha, name, state, base_sha, created_by, created_at,
	promoted_by, promoted_at, release_url`

func candidateDest(c *patchgate.Candidate) []any {
	return []any{&c.ID, &c.Forge, &c.Repo, &c.Branch, &c.SHA, &c.Name, &c.State, &c.BaseSHA, &c.CreatedBy,
		timeCol{&c.CreatedAt}, &c.PromotedBy, optTimeCol{&c.PromotedAt}, &c.ReleaseURL}
}

const approvalColumns = `id, candidate_id, sha, approver, approver_id, token, via, created_at, withdrawn_at`

func approvalDest(a *patchgate.Approval) []any {
	return []any{&a.ID, &a.CandidateID, &a.SHA, &a.Approver, &a.ApproverID, &a.Token, &a.Via, timeCol{&a.CreatedAt}, optTimeCol{&a.WithdrawnAt}}
}

// findCandidate returns a candidate without items and approvals; lock is "" or
// forUpdate().
func findCandidate(ctx context.Context, tx *txn, id int64, lock string) (*patchgate.Candidate, error) {
	var c patchgate.Candidate
	if err := tx.QueryRow(ctx, `SELECT `+candidateColumns+` FROM candidates WHERE id = $1`+lock,
		id).Scan(candidateDest(&c)...); err != nil {
		return nil, notFound(err, "candidate %d", id)
	}
	return &c, nil
}

// lockCandidates holds, until tx ends, a PostgreSQL advisory lock on the
// candidates of one repository, keyed by a hash of its name (a collision only
// serialises two repositories). Row locks cannot do this job: the candidate a
// creator inserts is not there yet for a concurrent creator to lock or
// supersede. On SQLite write transactions run one at a time anyway.
func (s *ReleaseService) lockCandidates(ctx context.Context, tx *txn, forge patchgate.Forge, repo string) error {
	if s.db.dialect != DialectPostgres {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "candidates\x00%s\x00%s", forge, repo)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock candidates of %s:%s: %w", forge, repo, err)
	}
	return nil
}

// validateItems checks a candidate's items before anything is written.
func validateItems(c *patchgate.Candidate) error {
	seen := map[[2]int64]bool{}
	for i, it := range c.Items {
		switch {
		case it == nil || it.ChangeID <= 0:
			return patchgate.Errorf(patchgate.EINVALID, "candidate %s: item %d needs a change", c.Name, i)
		case it.TicketID < 0:
			return patchgate.Errorf(patchgate.EINVALID, "candidate %s: item %d has ticket %d", c.Name, i, it.TicketID)
		case seen[[2]int64{it.ChangeID, it.TicketID}]:
			return patchgate.Errorf(patchgate.EINVALID, "candidate %s: change %d with ticket %d is listed twice",
				c.Name, it.ChangeID, it.TicketID)
		}
		seen[[2]int64{it.ChangeID, it.TicketID}] = true
	}
	return nil
}

// CreateCandidate stores c as open with its items (their Change and Ticket are
// ignored) and supersedes the repository's other open candidates, in one
// transaction; it sets c.ID, c.State and c.CreatedAt. A promoting candidate is
// not superseded: a promotion in flight is finished, not cancelled, and the new
// candidate stays open beside it. c.Name may be the name of an open candidate
// this call supersedes (re-cutting a candidate before it is tagged); ECONFLICT
// when a promoting or promoted candidate of the repository holds it, and when
// c is automatic while a candidate a person proposed is open
// (patchgate.HeldBy): that refusal is audited as candidate.auto_held on the
// open candidate. EINVALID when an item's change or ticket does not exist. It
// is audited as candidate.created with its items, in the same transaction.
func (s *ReleaseService) CreateCandidate(ctx context.Context, c *patchgate.Candidate) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := validateItems(c); err != nil {
		return err
	}
	ref := fmt.Sprintf("%s:%s %s", c.Forge, c.Repo, c.Name)

	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.lockCandidates(ctx, tx, c.Forge, c.Repo); err != nil {
		return err
	}
	// The open candidates, which c may supersede, and any other holding its
	// name; the unique index candidates_name is the backstop.
	var existing []*patchgate.Candidate
	if err := scanEach(ctx, tx, `SELECT id, sha, name, state, created_by FROM candidates
		WHERE forge = $1 AND repo = $2 AND (state = $3 OR name = $4) ORDER BY id`,
		[]any{c.Forge, c.Repo, patchgate.CandidateOpen, c.Name}, func(sc interface{ Scan(...any) error }) error {
			var e patchgate.Candidate
			existing = append(existing, &e)
			return sc.Scan(&e.ID, &e.SHA, &e.Name, &e.State, &e.CreatedBy)
		}); err != nil {
		return fmt.Errorf("create candidate %s: %w", ref, err)
	}
	if held := patchgate.HeldBy(c, existing); held != nil {
		return s.holdAutomatic(ctx, tx, c, held, existing)
	}
	superseded, rename, err := patchgate.SupersedeCandidates(c, existing)
	if err != nil {
		return err
	}
	if len(superseded) > 0 {
		var w where
		if _, err := tx.Exec(ctx, `UPDATE candidates SET state = `+w.arg(patchgate.CandidateSuperseded)+
			` WHERE id IN (`+idList(&w, superseded)+`)`, w.args...); err != nil {
			return fmt.Errorf("supersede open candidates of %s:%s: %w", c.Forge, c.Repo, err)
		}
	}

	if rename != 0 {
		return s.renameCandidate(ctx, tx, c, rename)
	}

	now := s.db.now()
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO candidates (forge, repo, branch, sha, name, state, base_sha,
		created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		c.Forge, c.Repo, c.Branch, c.SHA, c.Name, patchgate.CandidateOpen, c.BaseSHA, c.CreatedBy, now).Scan(&id); err != nil {
		if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
			return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s: the name is taken", ref)
		}
		return fmt.Errorf("create candidate %s: %w", ref, err)
	}
	for i, it := range c.Items {
		if _, err := tx.Exec(ctx, `INSERT INTO candidate_items (candidate_id, seq, change_id, ticket_id)
			VALUES ($1, $2, $3, $4)`, id, i, it.ChangeID, nullID(it.TicketID)); err != nil {
			if patchgate.ErrorCode(err) == patchgate.EINVALID {
				return patchgate.Errorf(patchgate.EINVALID, "candidate %s: change %d or ticket %d does not exist",
					ref, it.ChangeID, it.TicketID)
			}
			return fmt.Errorf("create candidate %s: item %d: %w", ref, i, err)
		}
	}
	// The items decide what the release fixes: audit verify compares them
	// with this entry.
	audited := *c
	audited.ID = id
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, c.CreatedBy), patchgate.AuditCandidateCreated, &audited,
		map[string]string{"items": patchgate.AuditItems(c.Items)})); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	c.ID, c.State, c.CreatedAt = id, patchgate.CandidateOpen, now
	c.PromotedBy, c.PromotedAt, c.ReleaseURL = "", nil, ""
	return nil
}

// holdAutomatic records, on the open candidate held that a person proposed,
// that automatic proposal c was not made because of it (candidate.auto_held),
// commits tx and returns SupersedeCandidates' ECONFLICT saying why: the
// release manager's candidate stays, and the audit shows the commit that
// passed since.
func (s *ReleaseService) holdAutomatic(ctx context.Context, tx *txn, c, held *patchgate.Candidate, existing []*patchgate.Candidate) error {
	on := *held
	on.Forge, on.Repo = c.Forge, c.Repo
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, c.CreatedBy), patchgate.AuditCandidateHeld, &on,
		map[string]string{"proposed_sha": c.SHA, "proposed_name": c.Name, "held_by": held.CreatedBy})); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, _, err := patchgate.SupersedeCandidates(c, existing)
	return err
}

// renameCandidate gives the open automatic candidate id, at c's SHA, c's name
// instead of creating c, audited as candidate.renamed by c's creator, and
// commits tx; it sets c's fields from the renamed candidate. Its items and
// approvals stay: they are of the same commit.
func (s *ReleaseService) renameCandidate(ctx context.Context, tx *txn, c *patchgate.Candidate, id int64) error {
	e, err := findCandidate(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE candidates SET name = $1 WHERE id = $2`, c.Name, id); err != nil {
		if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
			return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s:%s %s: the name is taken", c.Forge, c.Repo, c.Name)
		}
		return fmt.Errorf("rename candidate %d to %s: %w", id, c.Name, err)
	}
	old := e.Name
	e.Name = c.Name
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, c.CreatedBy), patchgate.AuditCandidateRenamed, e,
		map[string]string{"from": old, "by": c.CreatedBy})); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	*c = *e
	c.Items = nil
	return nil
}

// FindCandidateByID returns the candidate with its items in the order they were
// created with (changes and tickets filled) and every approval, withdrawn ones
// included, oldest first; ENOTFOUND when absent.
func (s *ReleaseService) FindCandidateByID(ctx context.Context, id int64) (*patchgate.Candidate, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := findCandidate(ctx, tx, id, "")
	if err != nil {
		return nil, err
	}
	return c, loadCandidate(ctx, tx, c)
}

// FindCandidates returns matching candidates, newest first, and the total
// count. Items and Approvals are left nil: not loaded, rather than empty.
func (s *ReleaseService) FindCandidates(ctx context.Context, f patchgate.CandidateFilter) ([]*patchgate.Candidate, int, error) {
	var w where
	if f.Forge != nil {
		w.add("forge = $?", *f.Forge)
	}
	if f.Repo != nil {
		w.add("repo = $?", *f.Repo)
	}
	if f.State != nil {
		w.add("state = $?", *f.State)
	}
	if f.SHA != nil {
		w.add("sha = $?", *f.SHA)
	}

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM candidates`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count candidates: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+candidateColumns+` FROM candidates`+w.String()+
		` ORDER BY created_at DESC, id DESC`+w.page(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find candidates: %w", err)
	}
	defer rows.Close()
	cs := []*patchgate.Candidate{}
	for rows.Next() {
		c := &patchgate.Candidate{}
		if err := rows.Scan(candidateDest(c)...); err != nil {
			return nil, 0, fmt.Errorf("find candidates: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find candidates: %w", err)
	}
	return cs, total, nil
}

// LastPromoted returns the repository's candidate promoted last, with items and
// approvals as FindCandidateByID; ENOTFOUND when nothing was promoted yet.
func (s *ReleaseService) LastPromoted(ctx context.Context, forge patchgate.Forge, repo string) (*patchgate.Candidate, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var c patchgate.Candidate
	if err := tx.QueryRow(ctx, `SELECT `+candidateColumns+` FROM candidates
		WHERE forge = $1 AND repo = $2 AND state = $3 ORDER BY promoted_at DESC, id DESC LIMIT 1`,
		forge, repo, patchgate.CandidatePromoted).Scan(candidateDest(&c)...); err != nil {
		return nil, notFound(err, "promoted candidate of %s:%s", forge, repo)
	}
	return &c, loadCandidate(ctx, tx, &c)
}

// loadCandidate fills c's items, with their changes and tickets, and approvals.
// Changes and tickets are read in one query each, not one per item.
func loadCandidate(ctx context.Context, tx *txn, c *patchgate.Candidate) error {
	rows, err := tx.Query(ctx, `SELECT change_id, ticket_id FROM candidate_items WHERE candidate_id = $1
		ORDER BY seq`, c.ID)
	if err != nil {
		return fmt.Errorf("find items of candidate %d: %w", c.ID, err)
	}
	defer rows.Close()
	c.Items = []*patchgate.CandidateItem{}
	changes, tickets := map[int64]*patchgate.Change{}, map[int64]*patchgate.Ticket{}
	for rows.Next() {
		it := &patchgate.CandidateItem{}
		if err := rows.Scan(&it.ChangeID, zeroIntCol{&it.TicketID}); err != nil {
			return fmt.Errorf("find items of candidate %d: %w", c.ID, err)
		}
		changes[it.ChangeID] = nil
		if it.TicketID != 0 {
			tickets[it.TicketID] = nil
		}
		c.Items = append(c.Items, it)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find items of candidate %d: %w", c.ID, err)
	}
	rows.Close()

	if len(changes) > 0 {
		var w where
		in := idList(&w, mapKeys(changes))
		if err := scanEach(ctx, tx, `SELECT `+changeColumns+` FROM changes WHERE id IN (`+in+`)`, w.args,
			func(sc interface{ Scan(...any) error }) error {
				ch, err := scanChange(sc)
				if err == nil {
					changes[ch.ID] = ch
				}
				return err
			}); err != nil {
			return fmt.Errorf("find changes of candidate %d: %w", c.ID, err)
		}
	}
	if len(tickets) > 0 {
		var w where
		in := idList(&w, mapKeys(tickets))
		if err := scanEach(ctx, tx, `SELECT `+ticketColumns+` FROM tickets WHERE id IN (`+in+`)`, w.args,
			func(sc interface{ Scan(...any) error }) error {
				t, err := scanTicket(sc)
				if err == nil {
					tickets[t.ID] = t
				}
				return err
			}); err != nil {
			return fmt.Errorf("find tickets of candidate %d: %w", c.ID, err)
		}
	}
	for _, it := range c.Items {
		it.Change = changes[it.ChangeID]
		if it.TicketID != 0 {
			it.Ticket = tickets[it.TicketID]
		}
	}

	return loadApprovals(ctx, tx, c)
}

// loadApprovals fills c's approvals, withdrawn ones included, oldest first.
func loadApprovals(ctx context.Context, tx *txn, c *patchgate.Candidate) error {
	c.Approvals = []*patchgate.Approval{}
	if err := scanEach(ctx, tx, `SELECT `+approvalColumns+` FROM approvals WHERE candidate_id = $1 ORDER BY id`,
		[]any{c.ID}, func(sc interface{ Scan(...any) error }) error {
			a := &patchgate.Approval{}
			if err := sc.Scan(approvalDest(a)...); err != nil {
				return err
			}
			c.Approvals = append(c.Approvals, a)
			return nil
		}); err != nil {
		return fmt.Errorf("find approvals of candidate %d: %w", c.ID, err)
	}
	return nil
}

// scanEach runs query and calls scan for each row.
func scanEach(ctx context.Context, tx *txn, query string, args []any, scan func(interface{ Scan(...any) error }) error) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func mapKeys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// candidateEntry is the audit entry of an action on candidate c, at its SHA;
// detail gets the repository and the candidate's name (the tag).
func candidateEntry(actor, action string, c *patchgate.Candidate, detail map[string]string) patchgate.AuditEntry {
	detail["repo"] = patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}.String()
	detail["name"] = c.Name
	return patchgate.AuditEntry{Actor: actor, Action: action, Subject: fmt.Sprintf("candidate:%d", c.ID), SHA: c.SHA,
		Detail: detail}
}

// AddApproval records a's approval and returns how many people's approvals of
// the candidate count after it, as the gate counts them
// (patchgate.Candidate.Approvers: live, at its SHA, naming a person by forge
// user id; an approval without an id is recorded but counts for nobody). The
// candidate's row is locked first, so two racing approvals count one after the
// other (1 and 2, never 1 and 1), and a racing supersede or promotion is seen. It sets a.ID and
// a.CreatedAt. ECONFLICT, saying why, when the candidate is not open, when a.SHA
// is not its SHA, or when a.Approver already approved it; ENOTFOUND when there
// is no such candidate. Who may approve is the caller's policy. The approval
// and its approval.created audit entry commit together.
func (s *ReleaseService) AddApproval(ctx context.Context, a *patchgate.Approval) (int, error) {
	if a.Approver == "" {
		return 0, patchgate.Errorf(patchgate.EINVALID, "approval of candidate %d: approver required", a.CandidateID)
	}
	if !patchgate.ValidSHA(a.SHA) {
		return 0, patchgate.Errorf(patchgate.EINVALID, "approval of candidate %d: %q is not a commit SHA", a.CandidateID, a.SHA)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	c, err := findCandidate(ctx, tx, a.CandidateID, s.db.forUpdate())
	if err != nil {
		return 0, err
	}
	if c.State != patchgate.CandidateOpen {
		return 0, patchgate.Errorf(patchgate.ECONFLICT, "candidate %d is %s: only an open candidate can be approved", c.ID, c.State)
	}
	if a.SHA != c.SHA {
		return 0, patchgate.Errorf(patchgate.ECONFLICT, "approval is for commit %s but candidate %d is at %s: approve the candidate's commit",
			a.SHA, c.ID, c.SHA)
	}
	// One person is one forge user id whatever login or token they approve
	// under (patchgate.SameUser); the candidate's row lock makes this check
	// and the insert one step for racing approvals.
	if err := loadApprovals(ctx, tx, c); err != nil {
		return 0, err
	}
	if prior := c.LiveApprovalBy(a.Person()); prior != nil {
		return 0, patchgate.Errorf(patchgate.ECONFLICT, "%s already approved candidate %d (as %s)", a.Person().Labelled(), c.ID, prior.Person().Labelled())
	}
	now := s.db.now()
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO approvals (candidate_id, sha, approver, approver_id, token, via, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, c.ID, a.SHA, a.Approver, a.ApproverID, a.Token, a.Via, now).Scan(&id); err != nil {
		if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
			return 0, patchgate.Errorf(patchgate.ECONFLICT, "%s already approved candidate %d", a.Approver, c.ID)
		}
		return 0, fmt.Errorf("approve candidate %d: %w", c.ID, err)
	}
	c.Approvals = append(c.Approvals, &patchgate.Approval{ID: id, CandidateID: c.ID, SHA: a.SHA, Approver: a.Approver,
		ApproverID: a.ApproverID, Token: a.Token, Via: a.Via, CreatedAt: now})
	n := len(c.Approvers())
	// Who approved is a person on the candidate's forge, named by login and
	// forge user id; through which token (none for a comment) is part of
	// the record too.
	person := patchgate.ForgeUser{Forge: c.Forge, Login: a.Approver, UserID: a.ApproverID}
	detail := map[string]string{"approver": a.Approver, "via": a.Via, "approvals": strconv.Itoa(n),
		"person": person.String()}
	if a.ApproverID != 0 {
		detail["approver_id"] = strconv.FormatInt(a.ApproverID, 10)
	}
	if a.Token != "" {
		detail["token"] = a.Token
	}
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, a.Approver), patchgate.AuditApprovalCreated, c, detail)); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	a.ID, a.CreatedAt, a.WithdrawnAt = id, now, nil
	return n, nil
}

// WithdrawApproval withdraws approver's live approval of the candidate; the row
// stays, with its withdrawal time. A withdrawn approver may approve again.
// ECONFLICT once the candidate is promoting or promoted (the approvals are then
// part of the release record); ENOTFOUND when the candidate or a live approval
// by approver does not exist. Audited as approval.withdrawn.
func (s *ReleaseService) WithdrawApproval(ctx context.Context, candidateID int64, approver patchgate.ForgeUser) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, err := findCandidate(ctx, tx, candidateID, s.db.forUpdate())
	if err != nil {
		return err
	}
	if c.State == patchgate.CandidatePromoting || c.State == patchgate.CandidatePromoted {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %d is %s: its approvals can no longer be withdrawn", c.ID, c.State)
	}
	if err := loadApprovals(ctx, tx, c); err != nil {
		return err
	}
	// The person's live approvals at any SHA, under any of their logins.
	var ids []int64
	for _, a := range c.Approvals {
		if a.WithdrawnAt == nil && patchgate.SameUser(a.Person(), approver) {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return patchgate.Errorf(patchgate.ENOTFOUND, "%s has no live approval of candidate %d", approver.Labelled(), c.ID)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `UPDATE approvals SET withdrawn_at = $1 WHERE id = $2`, s.db.now(), id); err != nil {
			return fmt.Errorf("withdraw approval %d of candidate %d by %s: %w", id, c.ID, approver.Login, err)
		}
		detail := map[string]string{"approver": approver.Login, "approval": strconv.FormatInt(id, 10)}
		if approver.UserID != 0 {
			detail["approver_id"] = strconv.FormatInt(approver.UserID, 10)
		}
		if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, approver.Login), patchgate.AuditApprovalWithdrawn, c, detail)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BeginPromotion moves an open candidate to promoting, recording by as the
// promoter, and returns it as FindCandidateByID would. A promoting candidate (a
// retry after a crash) and a promoted one are returned as they are, promoter
// unchanged. ECONFLICT when it is superseded, or when it is open and its
// approvals are not patchgate.EnoughApprovals for needed: they are counted
// under the candidate's lock, which WithdrawApproval takes too, so a
// withdrawal that raced the caller's own check is seen here. ENOTFOUND when
// absent. Whether the candidate is releasable is the caller's policy, checked
// before.
func (s *ReleaseService) BeginPromotion(ctx context.Context, id int64, by string, needed int) (*patchgate.Candidate, error) {
	if by == "" {
		return nil, patchgate.Errorf(patchgate.EINVALID, "promote candidate %d: who promotes is required", id)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	c, err := findCandidate(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return nil, err
	}
	if err := loadCandidate(ctx, tx, c); err != nil {
		return nil, err
	}
	switch c.State {
	case patchgate.CandidateOpen:
		if !patchgate.EnoughApprovals(c, needed) {
			return nil, patchgate.Errorf(patchgate.ECONFLICT, "candidate %d has %d of the %d approvals it needs as its promotion begins: promotion refused",
				id, len(c.Approvers()), needed)
		}
		if _, err := tx.Exec(ctx, `UPDATE candidates SET state = $1, promoted_by = $2 WHERE id = $3`,
			patchgate.CandidatePromoting, by, id); err != nil {
			return nil, fmt.Errorf("begin promotion of candidate %d: %w", id, err)
		}
		c.State, c.PromotedBy = patchgate.CandidatePromoting, by
	case patchgate.CandidatePromoting, patchgate.CandidatePromoted:
	default:
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "candidate %d is %s: it cannot be promoted", id, c.State)
	}
	return c, tx.Commit()
}

// FinishPromotion records that a promoting candidate's tag and release exist:
// promoted now, at releaseURL. On a promoted candidate it does nothing (the
// first URL and time stay, and no second audit entry is written). ECONFLICT
// for an open or superseded candidate; ENOTFOUND when absent. Audited as
// release.promoted, at the candidate's SHA.
func (s *ReleaseService) FinishPromotion(ctx context.Context, id int64, releaseURL string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, err := findCandidate(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return err
	}
	switch c.State {
	case patchgate.CandidatePromoted:
		return nil
	case patchgate.CandidatePromoting:
	default:
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %d is %s: only a promotion that began can finish", id, c.State)
	}
	promotedAt := s.db.now()
	if _, err := tx.Exec(ctx, `UPDATE candidates SET state = $1, promoted_at = $2, release_url = $3 WHERE id = $4`,
		patchgate.CandidatePromoted, promotedAt, releaseURL, id); err != nil {
		return fmt.Errorf("finish promotion of candidate %d: %w", id, err)
	}
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, c.PromotedBy), patchgate.AuditReleasePromoted, c,
		map[string]string{"promoted_by": c.PromotedBy, "release_url": releaseURL, "promoted_at": patchgate.AuditTime(promotedAt)})); err != nil {
		return err
	}
	// The promotion is evidence for its tickets' states: they are derived and
	// written in the same transaction, so a promoted candidate never leaves a
	// ticket unreleased.
	ids, err := queryIDs(ctx, tx, `SELECT DISTINCT ticket_id FROM candidate_items
		WHERE candidate_id = $1 AND ticket_id IS NOT NULL ORDER BY ticket_id`, id)
	if err != nil {
		return fmt.Errorf("find tickets of candidate %d: %w", id, err)
	}
	for _, tid := range ids {
		if _, err := s.db.reconcileTicket(ctx, tx, tid, actorOr(ctx, c.PromotedBy)); err != nil {
			return err
		}
	}
	return tx.Commit()
}
