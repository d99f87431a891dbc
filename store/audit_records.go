package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
// append the entries. From the log's baseline on (see checkRecords) it also
// compares tokens, verdicts, suite-run states, candidates, change authors and
// sessions with their entries. It returns what does not match, in words, and
// the baseline's Seq (0 when the log has none yet).
func (s *AuditService) unaudited(ctx context.Context) ([]string, int64, error) {
	tx, err := s.db.beginSnapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	entries, err := readRecordEntries(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	var out []string
	for _, check := range []func(context.Context, *txn, []recordEntry) ([]string, error){
		checkApprovals, checkPromotions, checkTicketStates,
	} {
		found, err := check(ctx, tx, entries)
		if err != nil {
			return nil, 0, fmt.Errorf("check audit entries of records: %w", err)
		}
		out = append(out, found...)
	}
	b, err := findBaseline(ctx, tx)
	if err != nil || b == nil {
		return out, 0, err
	}
	found, err := checkRecords(ctx, tx, b)
	if err != nil {
		return nil, 0, err
	}
	return append(out, found...), b.seq, nil
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

// The tables checkRecords compares with their entries, as AuditMismatch names
// them.
const (
	tableTokens        = "tokens"
	tableVerifications = "verifications"
	tableSuiteRuns     = "suite_runs"
	tableCandidates    = "candidates"
	tableChanges       = "changes"
	tableSessions      = "sessions"
)

// recordTables are the tables whose highest id a baseline records: their rows
// up to it may lack an entry.
var recordTables = []string{tableTokens, tableVerifications, tableSuiteRuns, tableCandidates, tableChanges}

// recordEntryTables maps an action to the table its entries describe and the
// subject prefix naming the row.
var recordEntryTables = map[string][2]string{
	patchgate.AuditTokenCreated:     {tableTokens, "token:"},
	patchgate.AuditTokenRevoked:     {tableTokens, "token:"},
	patchgate.AuditVerdict:          {tableVerifications, "verification:"},
	patchgate.AuditSuiteRunState:    {tableSuiteRuns, "suite_run:"},
	patchgate.AuditCandidateCreated: {tableCandidates, "candidate:"},
	patchgate.AuditChangeAuthor:     {tableChanges, "change:"},
	patchgate.AuditSessionCreated:   {tableSessions, "session:"},
}

// baseline is the entry from which checkRecords compares rows with entries.
type baseline struct {
	seq    int64
	detail map[string]string
}

// isBaseline reports whether an entry is the baseline: an audit.baseline
// entry, or an audit.keyed one that carries its detail.
func isBaseline(action string, detail map[string]string) bool {
	return (action == patchgate.AuditBaseline || action == patchgate.AuditKeyed) && detail[patchgate.AuditBaselineMark] == "1"
}

// findBaseline returns the log's first baseline, nil when it has none.
func findBaseline(ctx context.Context, tx *txn) (*baseline, error) {
	rows, err := tx.Query(ctx, `SELECT seq, action, detail FROM audit_log WHERE action IN ($1, $2) ORDER BY seq`,
		patchgate.AuditBaseline, patchgate.AuditKeyed)
	if err != nil {
		return nil, fmt.Errorf("look for the audit baseline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b baseline
		var action, detail string
		if err := rows.Scan(&b.seq, &action, &detail); err != nil {
			return nil, fmt.Errorf("look for the audit baseline: %w", err)
		}
		_ = json.Unmarshal([]byte(detail), &b.detail)
		if isBaseline(action, b.detail) {
			return &b, nil
		}
	}
	return nil, rows.Err()
}

// baselineDetail reads what a baseline records in tx: the highest id of each
// of recordTables, and field by field ("tokens:NAME:role") every token, every
// session and every open or promoting candidate, so that those rows stay
// checked although they predate their entries.
func baselineDetail(ctx context.Context, tx *txn) (map[string]string, error) {
	d := map[string]string{patchgate.AuditBaselineMark: "1"}
	for _, table := range recordTables {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("audit baseline: %s: %w", table, err)
		}
		d[patchgate.AuditBaselineMax(table)] = strconv.FormatInt(n, 10)
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("audit baseline: %s: %w", table, err)
		}
		d[baselineCount(table)] = strconv.FormatInt(n, 10)
	}
	put := func(table, id string, fields map[string]string) {
		for f, v := range fields {
			d[table+":"+id+":"+f] = v
		}
	}
	tokens, err := tokenRecords(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, r := range tokens {
		put(tableTokens, r.id, r.fields)
	}
	sessions, err := sessionRecords(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, r := range sessions {
		put(tableSessions, r.id, r.fields)
	}
	candidates, err := candidateRecords(ctx, tx, true)
	if err != nil {
		return nil, err
	}
	for _, r := range candidates {
		put(tableCandidates, r.id, r.fields)
	}
	return d, nil
}

// baselineCount is the detail key of how many rows table had at the baseline:
// a row inserted later with an id below the highest (into a gap a rolled-back
// insert left) changes it.
func baselineCount(table string) string { return "count:" + table }

// rowRecord is a row as checkRecords compares it: its id as entries name it,
// its numeric id (0 for sessions) and its fields.
type rowRecord struct {
	id     string
	num    int64
	fields map[string]string
}

func tokenRecords(ctx context.Context, tx *txn) ([]rowRecord, error) {
	var out []rowRecord
	err := scanEach(ctx, tx, `SELECT id, name, role, users, projects, hash, revoked_at IS NOT NULL FROM tokens ORDER BY id`, nil,
		func(sc interface{ Scan(...any) error }) error {
			var r rowRecord
			var role, users, projects, hash string
			var revoked bool
			if err := sc.Scan(&r.num, &r.id, &role, &users, &projects, &hash, &revoked); err != nil {
				return err
			}
			r.fields = map[string]string{"hash": patchgate.AuditFingerprint(hash), "role": role, "users": users,
				"revoked": "", "projects": projects}
			if revoked {
				r.fields["revoked"] = "true"
			}
			out = append(out, r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	return out, nil
}

func sessionRecords(ctx context.Context, tx *txn) ([]rowRecord, error) {
	var out []rowRecord
	err := scanEach(ctx, tx, `SELECT id, token_id, hash, expires_at FROM sessions ORDER BY id`, nil,
		func(sc interface{ Scan(...any) error }) error {
			var id, hash string
			var token int64
			var expires time.Time
			if err := sc.Scan(&id, &token, &hash, timeCol{&expires}); err != nil {
				return err
			}
			out = append(out, rowRecord{id: patchgate.AuditFingerprint(id), fields: sessionFields(token, hash, expires)})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	return out, nil
}

// candidateRecords reads every candidate with its items, or with live only
// the open and promoting ones.
func candidateRecords(ctx context.Context, tx *txn, live bool) ([]rowRecord, error) {
	q := `SELECT id, sha FROM candidates ORDER BY id`
	var args []any
	if live {
		q = `SELECT id, sha FROM candidates WHERE state IN ($1, $2) ORDER BY id`
		args = []any{patchgate.CandidateOpen, patchgate.CandidatePromoting}
	}
	var out []rowRecord
	byID := map[int64]*patchgate.Candidate{}
	err := scanEach(ctx, tx, q, args, func(sc interface{ Scan(...any) error }) error {
		c := &patchgate.Candidate{}
		if err := sc.Scan(&c.ID, &c.SHA); err != nil {
			return err
		}
		byID[c.ID] = c
		out = append(out, rowRecord{id: strconv.FormatInt(c.ID, 10), num: c.ID})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read candidates: %w", err)
	}
	err = scanEach(ctx, tx, `SELECT candidate_id, change_id, COALESCE(ticket_id, 0) FROM candidate_items ORDER BY candidate_id, seq`, nil,
		func(sc interface{ Scan(...any) error }) error {
			var id int64
			it := &patchgate.CandidateItem{}
			if err := sc.Scan(&id, &it.ChangeID, &it.TicketID); err != nil {
				return err
			}
			if c := byID[id]; c != nil {
				c.Items = append(c.Items, it)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read candidate items: %w", err)
	}
	for i := range out {
		c := byID[out[i].num]
		out[i].fields = map[string]string{"sha": c.SHA, "items": patchgate.AuditItems(c.Items)}
	}
	return out, nil
}

// verificationRecords reads the final verifications.
func verificationRecords(ctx context.Context, tx *txn) ([]rowRecord, error) {
	var out []rowRecord
	err := scanEach(ctx, tx, `SELECT id, state, sha, forge, repo, config_digest, require_proof FROM verifications
		WHERE state NOT IN `+liveStates+` ORDER BY id`, nil,
		func(sc interface{ Scan(...any) error }) error {
			var v patchgate.Verification
			if err := sc.Scan(&v.ID, &v.State, &v.SHA, &v.Forge, &v.Repo, &v.ConfigDigest, &v.RequireProof); err != nil {
				return err
			}
			out = append(out, rowRecord{id: strconv.FormatInt(v.ID, 10), num: v.ID, fields: patchgate.AuditVerificationRecord(&v)})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read verifications: %w", err)
	}
	return out, nil
}

// suiteRunRecords reads the final suite runs.
func suiteRunRecords(ctx context.Context, tx *txn) ([]rowRecord, error) {
	var out []rowRecord
	err := scanEach(ctx, tx, `SELECT id, state, verification_id, name, required FROM suite_runs
		WHERE state NOT IN `+liveStates+` ORDER BY id`, nil,
		func(sc interface{ Scan(...any) error }) error {
			var sr patchgate.SuiteRun
			if err := sc.Scan(&sr.ID, &sr.State, &sr.VerificationID, &sr.Name, &sr.Required); err != nil {
				return err
			}
			out = append(out, rowRecord{id: strconv.FormatInt(sr.ID, 10), num: sr.ID, fields: patchgate.AuditSuiteRunRecord(&sr)})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read suite runs: %w", err)
	}
	return out, nil
}

func changeRecords(ctx context.Context, tx *txn) ([]rowRecord, error) {
	var out []rowRecord
	err := scanEach(ctx, tx, `SELECT id, author, author_id FROM changes ORDER BY id`, nil,
		func(sc interface{ Scan(...any) error }) error {
			var r rowRecord
			var author string
			var authorID int64
			if err := sc.Scan(&r.num, &author, &authorID); err != nil {
				return err
			}
			r.id, r.fields = strconv.FormatInt(r.num, 10), map[string]string{"author": author, "author_id": ""}
			if authorID != 0 {
				r.fields["author_id"] = strconv.FormatInt(authorID, 10) // as change.author entries write it
			}
			out = append(out, r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

// auditedRecords returns, per table and row id, what the row's latest entry
// says: each entry of recordEntryTables' actions, and the baseline's rows at
// its place in the log.
func auditedRecords(ctx context.Context, tx *txn, b *baseline) (map[string]map[string]*patchgate.AuditRecord, error) {
	out := map[string]map[string]*patchgate.AuditRecord{}
	set := func(table, id string, r *patchgate.AuditRecord) {
		if out[table] == nil {
			out[table] = map[string]*patchgate.AuditRecord{}
		}
		out[table][id] = r
	}
	fromBaseline := map[[2]string]*patchgate.AuditRecord{}
	for k, v := range b.detail {
		table, rest, ok := strings.Cut(k, ":")
		i := strings.LastIndex(rest, ":")
		if !ok || i < 0 {
			continue // max:TABLE, count:TABLE, baseline, plain_through
		}
		key := [2]string{table, rest[:i]}
		if fromBaseline[key] == nil {
			fromBaseline[key] = &patchgate.AuditRecord{Seq: b.seq, Fields: map[string]string{}}
		}
		fromBaseline[key].Fields[rest[i+1:]] = v
	}
	actions := make([]any, 0, len(recordEntryTables))
	var in []string
	for a := range recordEntryTables {
		actions = append(actions, a)
		in = append(in, "$"+strconv.Itoa(len(actions)))
	}
	rows, err := tx.Query(ctx, `SELECT seq, action, subject, sha, detail FROM audit_log WHERE action IN (`+
		strings.Join(in, ", ")+`) ORDER BY seq`, actions...)
	if err != nil {
		return nil, fmt.Errorf("read audit entries of records: %w", err)
	}
	defer rows.Close()
	placed := false
	placeBaseline := func() {
		for k, r := range fromBaseline {
			set(k[0], k[1], r)
		}
		placed = true
	}
	for rows.Next() {
		var seq int64
		var action, subject, sha, detail string
		if err := rows.Scan(&seq, &action, &subject, &sha, &detail); err != nil {
			return nil, fmt.Errorf("read audit entries of records: %w", err)
		}
		if !placed && seq > b.seq {
			placeBaseline()
		}
		var d map[string]string
		_ = json.Unmarshal([]byte(detail), &d) // an unreadable one is the chain check's to report
		t := recordEntryTables[action]
		id, ok := strings.CutPrefix(subject, t[1])
		if !ok {
			continue
		}
		r := &patchgate.AuditRecord{Seq: seq, Fields: d}
		switch action {
		case patchgate.AuditCandidateCreated:
			r.Fields = map[string]string{"sha": sha, "items": d["items"]}
		case patchgate.AuditVerdict:
			r.Fields["sha"] = sha // entries before it was in the detail have it here
		case patchgate.AuditTokenRevoked:
			// A revocation changes one field of what the token's entries say.
			r.Fields = map[string]string{"revoked": "true"}
			if prev := out[t[0]][id]; prev != nil {
				for k, v := range prev.Fields {
					if k != "revoked" {
						r.Fields[k] = v
					}
				}
			}
		}
		set(t[0], id, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit entries of records: %w", err)
	}
	if !placed {
		placeBaseline()
	}
	return out, nil
}

// checkRecords compares the tokens, final verification and suite-run states,
// candidates with their items, change authors and sessions with their latest
// audit entries (patchgate.CompareAuditRecord) and returns each mismatch, in
// words, table by table in that order. Rows up to the baseline's highest ids
// may lack an entry. Entries whose row is gone are mismatches too, but for
// sessions, which end by being deleted.
func checkRecords(ctx context.Context, tx *txn, b *baseline) ([]string, error) {
	audited, err := auditedRecords(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	type source struct {
		table   string
		fields  []string
		rows    func() ([]rowRecord, error)
		deleted bool // rows end by being deleted: an entry without its row is no mismatch
		// only: when set, the rows read are some of the table's (final
		// states): an entry whose row is not among them is checked by
		// exists.
		only bool
	}
	sources := []source{
		{table: tableTokens, fields: patchgate.AuditTokenFields, rows: func() ([]rowRecord, error) { return tokenRecords(ctx, tx) }},
		{table: tableVerifications, fields: patchgate.AuditVerificationFields, only: true,
			rows: func() ([]rowRecord, error) { return verificationRecords(ctx, tx) }},
		{table: tableSuiteRuns, fields: patchgate.AuditSuiteRunFields, only: true,
			rows: func() ([]rowRecord, error) { return suiteRunRecords(ctx, tx) }},
		{table: tableCandidates, fields: patchgate.AuditCandidateFields,
			rows: func() ([]rowRecord, error) { return candidateRecords(ctx, tx, false) }},
		{table: tableChanges, fields: patchgate.AuditChangeFields, rows: func() ([]rowRecord, error) { return changeRecords(ctx, tx) }},
		{table: tableSessions, fields: patchgate.AuditSessionFields, deleted: true,
			rows: func() ([]rowRecord, error) { return sessionRecords(ctx, tx) }},
	}
	var out []string
	for _, src := range sources {
		rows, err := src.rows()
		if err != nil {
			return nil, fmt.Errorf("check audit entries of records: %w", err)
		}
		max, _ := strconv.ParseInt(b.detail[patchgate.AuditBaselineMax(src.table)], 10, 64)
		if m, err := checkBaselineCount(ctx, tx, b, src.table, max); err != nil {
			return nil, err
		} else if m != nil {
			out = append(out, m.String())
		}
		entries := audited[src.table]
		for _, r := range rows {
			entry := entries[r.id]
			delete(entries, r.id)
			if src.table == tableChanges && entry == nil && r.fields["author"] == "" {
				continue // no author yet: nothing to audit
			}
			// The baseline lists every token and session it found, so theirs
			// is an entry; rows of the other tables up to its highest id
			// may predate their entries.
			predates := src.table != tableSessions && src.table != tableTokens && r.num <= max
			if m := patchgate.CompareAuditRecord(src.table, r.id, src.fields, &patchgate.AuditRecord{Fields: r.fields}, entry, predates); m != nil {
				out = append(out, m.String())
			}
		}
		if src.deleted {
			continue
		}
		var left []string
		for id, entry := range entries {
			if src.only {
				exists, err := rowExists(ctx, tx, src.table, id)
				if err != nil {
					return nil, err
				}
				if exists {
					continue // live again (requeued) or never final: nothing decided yet
				}
			}
			left = append(left, patchgate.CompareAuditRecord(src.table, id, src.fields, nil, entry, false).String())
		}
		slices.Sort(left)
		out = append(out, left...)
	}
	return out, nil
}

// rowExists reports whether table has a row with id.
func rowExists(ctx context.Context, tx *txn, table, id string) (bool, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return false, nil
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, n).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// beginSnapshot begins a read transaction that sees one snapshot throughout:
// rows and their entries are read by several statements, and a verdict
// committed between two of them must not look like a row without its entry.
// SQLite's read transactions are snapshots already; PostgreSQL's need
// REPEATABLE READ.
func (d *DB) beginSnapshot(ctx context.Context) (*txn, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", translate(err))
	}
	return &txn{tx: tx, sqlite: d.dialect == DialectSQLite}, nil
}

// checkBaselineCount compares how many rows of table have ids up to max with
// how many the baseline counted; nil when they agree or the baseline counted
// none (written before it counted).
func checkBaselineCount(ctx context.Context, tx *txn, b *baseline, table string, max int64) (*patchgate.AuditMismatch, error) {
	want, ok := b.detail[baselineCount(table)]
	if !ok || table == tableTokens {
		return nil, nil
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id <= $1`, max).Scan(&n); err != nil {
		return nil, fmt.Errorf("count %s: %w", table, err)
	}
	if got := strconv.FormatInt(n, 10); got != want {
		return &patchgate.AuditMismatch{Table: table, ID: fmt.Sprintf("1..%d", max), Field: "rows", Recorded: got, Audited: want,
			Seq: b.seq}, nil
	}
	return nil, nil
}
