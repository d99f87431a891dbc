package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
)

// recordEntry is an audit entry that records an approval, a withdrawal, a
// promotion or a ticket state, as unaudited needs it.
type recordEntry struct {
	seq     int64
	action  string
	subject string
	sha     string
	detail  map[string]string
}

// unaudited compares the records the gate counts with their audit entries, in
// one read transaction: each approval row with an approval.created entry (same
// candidate, approver and SHA), each withdrawn approval with its
// approval.withdrawn entry, each promoted candidate with its release.promoted
// entry, and each ticket's state with the "to" of its latest ticket.state entry
// ("open" when it has none); and each such entry with its record. A row
// written past the services (raw SQL) shows here, since only the services
// append the entries. It returns what does not match, in words.
func (s *AuditService) unaudited(ctx context.Context) ([]string, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	entries, err := readRecordEntries(ctx, tx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, check := range []func(context.Context, *txn, []recordEntry) ([]string, error){
		checkApprovals, checkPromotions, checkTicketStates,
	} {
		found, err := check(ctx, tx, entries)
		if err != nil {
			return nil, fmt.Errorf("check audit entries of records: %w", err)
		}
		out = append(out, found...)
	}
	return out, nil
}

func readRecordEntries(ctx context.Context, tx *txn) ([]recordEntry, error) {
	rows, err := tx.Query(ctx, `SELECT seq, action, subject, sha, detail FROM audit_log
		WHERE action IN ($1, $2, $3, $4) ORDER BY seq`,
		patchgate.AuditApprovalCreated, patchgate.AuditApprovalWithdrawn, patchgate.AuditReleasePromoted, patchgate.AuditTicketState)
	if err != nil {
		return nil, fmt.Errorf("read audit entries of records: %w", err)
	}
	defer rows.Close()
	var es []recordEntry
	for rows.Next() {
		var e recordEntry
		var detail string
		if err := rows.Scan(&e.seq, &e.action, &e.subject, &e.sha, &detail); err != nil {
			return nil, fmt.Errorf("read audit entries of records: %w", err)
		}
		_ = json.Unmarshal([]byte(detail), &e.detail) // an unreadable one is the chain check's to report
		es = append(es, e)
	}
	return es, rows.Err()
}

// candidateOf returns the candidate id of a "candidate:ID" subject, 0 for another.
func candidateOf(subject string) int64 {
	id, _ := strconv.ParseInt(strings.TrimPrefix(subject, "candidate:"), 10, 64)
	return id
}

func checkApprovals(ctx context.Context, tx *txn, entries []recordEntry) ([]string, error) {
	type key struct {
		candidate     int64
		approver, sha string
	}
	created := map[key][]int64{}    // entry seqs, ascending
	withdrawn := map[string]int64{} // approval id → entry seq
	for _, e := range entries {
		switch e.action {
		case patchgate.AuditApprovalCreated:
			k := key{candidateOf(e.subject), e.detail["approver"], e.sha}
			created[k] = append(created[k], e.seq)
		case patchgate.AuditApprovalWithdrawn:
			withdrawn[e.detail["approval"]] = e.seq
		}
	}
	rows, err := tx.Query(ctx, `SELECT id, candidate_id, approver, sha, withdrawn_at IS NOT NULL FROM approvals ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var k key
		var isWithdrawn bool
		if err := rows.Scan(&id, &k.candidate, &k.approver, &k.sha, &isWithdrawn); err != nil {
			return nil, err
		}
		if seqs := created[k]; len(seqs) > 0 {
			created[k] = seqs[1:]
		} else {
			out = append(out, fmt.Sprintf("approval %d of candidate %d by %s at %s has no %s entry",
				id, k.candidate, k.approver, short(k.sha), patchgate.AuditApprovalCreated))
		}
		sid := strconv.FormatInt(id, 10)
		if _, ok := withdrawn[sid]; ok != isWithdrawn {
			if isWithdrawn {
				out = append(out, fmt.Sprintf("approval %d of candidate %d by %s is withdrawn but has no %s entry",
					id, k.candidate, k.approver, patchgate.AuditApprovalWithdrawn))
			} else {
				out = append(out, fmt.Sprintf("%s entry %d: approval %d of candidate %d by %s is live",
					patchgate.AuditApprovalWithdrawn, withdrawn[sid], id, k.candidate, k.approver))
			}
		}
		delete(withdrawn, sid)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var left []string // from maps: sorted below
	for k, seqs := range created {
		for _, seq := range seqs {
			left = append(left, fmt.Sprintf("%s entry %d (candidate %d by %s at %s) has no approval row",
				patchgate.AuditApprovalCreated, seq, k.candidate, k.approver, short(k.sha)))
		}
	}
	for id, seq := range withdrawn {
		left = append(left, fmt.Sprintf("%s entry %d names approval %s, which does not exist", patchgate.AuditApprovalWithdrawn, seq, id))
	}
	slices.Sort(left)
	return append(out, left...), nil
}

func checkPromotions(ctx context.Context, tx *txn, entries []recordEntry) ([]string, error) {
	promoted := map[int64]int64{} // candidate → entry seq
	for _, e := range entries {
		if e.action == patchgate.AuditReleasePromoted {
			promoted[candidateOf(e.subject)] = e.seq
		}
	}
	rows, err := tx.Query(ctx, `SELECT id, state FROM candidates ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var state patchgate.CandidateState
		if err := rows.Scan(&id, &state); err != nil {
			return nil, err
		}
		seq, ok := promoted[id]
		delete(promoted, id)
		switch {
		case state == patchgate.CandidatePromoted && !ok:
			out = append(out, fmt.Sprintf("candidate %d is promoted but has no %s entry", id, patchgate.AuditReleasePromoted))
		case state != patchgate.CandidatePromoted && ok:
			out = append(out, fmt.Sprintf("%s entry %d: candidate %d is %s", patchgate.AuditReleasePromoted, seq, id, state))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var left []string
	for id, seq := range promoted {
		left = append(left, fmt.Sprintf("%s entry %d names candidate %d, which does not exist", patchgate.AuditReleasePromoted, seq, id))
	}
	slices.Sort(left)
	return append(out, left...), nil
}

// checkTicketStates compares each ticket's state with its latest ticket.state
// entry. Entries name a ticket by key alone, so tickets of two trackers that
// share a key cannot be told apart: they are left out.
func checkTicketStates(ctx context.Context, tx *txn, entries []recordEntry) ([]string, error) {
	latest := map[string]recordEntry{} // key → latest entry
	for _, e := range entries {
		if k, ok := strings.CutPrefix(e.subject, "ticket:"); ok && e.action == patchgate.AuditTicketState {
			latest[k] = e
		}
	}
	rows, err := tx.Query(ctx, `SELECT key, state FROM tickets ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	states := map[string][]patchgate.TicketState{}
	var keys []string
	for rows.Next() {
		var k string
		var st patchgate.TicketState
		if err := rows.Scan(&k, &st); err != nil {
			return nil, err
		}
		if states[k] == nil {
			keys = append(keys, k)
		}
		states[k] = append(states[k], st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		if len(states[k]) > 1 {
			continue
		}
		st := states[k][0]
		e, ok := latest[k]
		switch {
		case !ok && st != patchgate.TicketOpen:
			out = append(out, fmt.Sprintf("ticket %s is %s but has no %s entry (a ticket without one is open)", k, st, patchgate.AuditTicketState))
		case ok && e.detail["to"] != string(st):
			out = append(out, fmt.Sprintf("ticket %s is %s but its latest %s entry %d says %s", k, st, patchgate.AuditTicketState, e.seq, e.detail["to"]))
		}
	}
	return out, nil
}

// short abbreviates a commit SHA for a message.
func short(sha string) string { return sha[:min(len(sha), 12)] }
