package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// The suite-run half of VerificationService: results, test results and logs.

const suiteRunColumns = `id, verification_id, name, required, state, image, exit_code, oom_killed, timed_out,
	description, passed, failed, skipped, image_digests, timings, started_at, finished_at`

// suiteRunDest returns the scan destinations of suiteRunColumns; finishSuiteRun
// decodes the JSON columns.
func suiteRunDest(s *patchgate.SuiteRun, digests, timings *string) []any {
	return []any{&s.ID, &s.VerificationID, &s.Name, &s.Required, &s.State, &s.Image, optIntCol{&s.ExitCode},
		&s.OOMKilled, &s.TimedOut, &s.Description, &s.Passed, &s.Failed, &s.Skipped, digests, timings,
		optTimeCol{&s.StartedAt}, optTimeCol{&s.FinishedAt}}
}

func finishSuiteRun(s *patchgate.SuiteRun, digests, timings string) error {
	if err := json.Unmarshal([]byte(digests), &s.ImageDigests); err != nil {
		return fmt.Errorf("suite run %d image digests: %w", s.ID, err)
	}
	if len(s.ImageDigests) == 0 {
		s.ImageDigests = nil
	}
	var t timingsJSON
	if err := json.Unmarshal([]byte(timings), &t); err != nil {
		return fmt.Errorf("suite run %d timings: %w", s.ID, err)
	}
	s.Timings = patchgate.EnvironmentTimings{Provision: time.Duration(t.Provision), Run: time.Duration(t.Run),
		Collect: time.Duration(t.Collect), Teardown: time.Duration(t.Teardown)}
	return nil
}

// timingsJSON is how EnvironmentTimings is stored: named keys in nanoseconds,
// so that renaming a Go field does not silently lose stored values.
type timingsJSON struct {
	Provision int64 `json:"provision_ns"`
	Run       int64 `json:"run_ns"`
	Collect   int64 `json:"collect_ns"`
	Teardown  int64 `json:"teardown_ns"`
}

func encodeTimings(t patchgate.EnvironmentTimings) string {
	b, _ := json.Marshal(timingsJSON{Provision: int64(t.Provision), Run: int64(t.Run), Collect: int64(t.Collect),
		Teardown: int64(t.Teardown)}) // int64 fields always marshal
	return string(b)
}

func encodeDigests(m map[string]string) string {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m) // a map[string]string always marshals
	return string(b)
}

// optIntCol scans a nullable integer into a pointer.
type optIntCol struct{ p **int }

func (c optIntCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = nil
	case int64:
		n := int(v)
		*c.p = &n
	default:
		return fmt.Errorf("scan integer: unexpected %T", src)
	}
	return nil
}

// optInt binds an optional integer.
func optInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// loadSuites fills the Suites of vs, in id order, without tests, in one query.
func loadSuites(ctx context.Context, tx *txn, vs ...*patchgate.Verification) error {
	if len(vs) == 0 {
		return nil
	}
	byID := make(map[int64]*patchgate.Verification, len(vs))
	ids := make([]int64, len(vs))
	for i, v := range vs {
		v.Suites = nil
		byID[v.ID], ids[i] = v, v.ID
	}
	var w where
	rows, err := tx.Query(ctx, `SELECT `+suiteRunColumns+` FROM suite_runs
		WHERE verification_id IN (`+idList(&w, ids)+`) ORDER BY id`, w.args...)
	if err != nil {
		return fmt.Errorf("find suite runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s := &patchgate.SuiteRun{}
		var digests, timings string
		if err := rows.Scan(suiteRunDest(s, &digests, &timings)...); err != nil {
			return fmt.Errorf("find suite runs: %w", err)
		}
		if err := finishSuiteRun(s, digests, timings); err != nil {
			return fmt.Errorf("find suite runs: %w", err)
		}
		v := byID[s.VerificationID]
		v.Suites = append(v.Suites, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find suite runs: %w", err)
	}
	return nil
}

// UpdateSuiteRun saves s's state and results by s.ID (its name, requirement and
// image are fixed at creation), and replaces its test results when s.Tests is
// not nil. A new final state is audited as suite_run.state in the same
// transaction. ENOTFOUND when there is no such suite run.
func (s *VerificationService) UpdateSuiteRun(ctx context.Context, sr *patchgate.SuiteRun) error {
	if !validRunState(sr.State) {
		return patchgate.Errorf(patchgate.EINVALID, "suite run %d: unknown state %q", sr.ID, string(sr.State))
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stored := patchgate.SuiteRun{ID: sr.ID}
	if err := tx.QueryRow(ctx, `SELECT state, verification_id, name, required FROM suite_runs WHERE id = $1`, sr.ID).Scan(
		&stored.State, &stored.VerificationID, &stored.Name, &stored.Required); err != nil {
		return notFound(err, "suite run %d", sr.ID)
	}
	before := stored.State
	res, err := tx.Exec(ctx, `UPDATE suite_runs SET state = $1, exit_code = $2, oom_killed = $3, timed_out = $4,
		description = $5, passed = $6, failed = $7, skipped = $8, image_digests = $9, timings = $10,
		started_at = $11, finished_at = $12 WHERE id = $13`,
		sr.State, optInt(sr.ExitCode), sr.OOMKilled, sr.TimedOut, sr.Description, sr.Passed, sr.Failed, sr.Skipped,
		encodeDigests(sr.ImageDigests), encodeTimings(sr.Timings), sr.StartedAt, sr.FinishedAt, sr.ID)
	if err != nil {
		return fmt.Errorf("update suite run %d: %w", sr.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update suite run %d: %w", sr.ID, err)
	} else if n == 0 {
		return patchgate.Errorf(patchgate.ENOTFOUND, "suite run %d not found", sr.ID)
	}
	if sr.Tests != nil {
		if _, err := tx.Exec(ctx, `DELETE FROM test_results WHERE suite_run_id = $1`, sr.ID); err != nil {
			return fmt.Errorf("replace tests of suite run %d: %w", sr.ID, err)
		}
		if err := insertTests(ctx, tx, sr.ID, sr.Tests); err != nil {
			return err
		}
	}
	// A final state decides the gate: audit verify compares it with this entry.
	if sr.State.Final() && sr.State != before {
		stored.State = sr.State
		if err := s.db.appendAudit(ctx, tx, suiteRunEntry(ctx, &stored)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// testBatch is how many test results one INSERT stores: 10 arguments each stays
// far below both dialects' limits on arguments per statement.
const testBatch = 200

// insertTests stores a suite run's test results in report order, several rows
// per statement: a report can hold thousands.
func insertTests(ctx context.Context, tx *txn, suiteRunID int64, tests []patchgate.TestResult) error {
	for start := 0; start < len(tests); start += testBatch {
		var w where
		var values []string
		for i, tr := range tests[start:min(start+testBatch, len(tests))] {
			values = append(values, "("+strings.Join([]string{w.arg(suiteRunID), w.arg(start + i), w.arg(tr.Class),
				w.arg(tr.Name), w.arg(tr.Status), w.arg(int64(tr.Duration)), w.arg(tr.Message),
				w.arg(max(tr.Attempt, 1)), w.arg(tr.Flaky), w.arg(tr.Quarantined)}, ", ")+")")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO test_results (suite_run_id, seq, class, name, status, duration_ns, message, attempt, flaky, quarantined)
			VALUES `+strings.Join(values, ", "), w.args...); err != nil {
			return fmt.Errorf("store tests of suite run %d: %w", suiteRunID, err)
		}
	}
	return nil
}

// FindTests returns a suite run's test results in report order; ENOTFOUND when
// there is no such suite run.
func (s *VerificationService) FindTests(ctx context.Context, suiteRunID int64) ([]patchgate.TestResult, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM suite_runs WHERE id = $1`, suiteRunID).Scan(&id); err != nil {
		return nil, notFound(err, "suite run %d", suiteRunID)
	}
	rows, err := tx.Query(ctx, `SELECT class, name, status, duration_ns, message, attempt, flaky, quarantined FROM test_results
		WHERE suite_run_id = $1 ORDER BY seq`, suiteRunID)
	if err != nil {
		return nil, fmt.Errorf("find tests of suite run %d: %w", suiteRunID, err)
	}
	defer rows.Close()
	ts := []patchgate.TestResult{}
	for rows.Next() {
		var tr patchgate.TestResult
		if err := rows.Scan(&tr.Class, &tr.Name, &tr.Status, (*int64)(&tr.Duration), &tr.Message, &tr.Attempt, &tr.Flaky, &tr.Quarantined); err != nil {
			return nil, fmt.Errorf("find tests of suite run %d: %w", suiteRunID, err)
		}
		ts = append(ts, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tests of suite run %d: %w", suiteRunID, err)
	}
	return ts, nil
}

// AppendLog appends a chunk to a suite run's log; an empty chunk changes
// nothing. The running total on the suite run and the chunk commit together, so
// a reader never sees one without the other. ENOTFOUND when there is no such
// suite run.
func (s *VerificationService) AppendLog(ctx context.Context, suiteRunID int64, chunk []byte) error {
	if len(chunk) == 0 {
		return nil
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The UPDATE locks the suite run's row on PostgreSQL, so concurrent appends
	// to one log take their offsets and sequence numbers one after the other.
	var end int64
	err = tx.QueryRow(ctx, `UPDATE suite_runs SET log_bytes = log_bytes + $1 WHERE id = $2 RETURNING log_bytes`,
		int64(len(chunk)), suiteRunID).Scan(&end)
	if errors.Is(err, sql.ErrNoRows) {
		return patchgate.Errorf(patchgate.ENOTFOUND, "suite run %d not found", suiteRunID)
	} else if err != nil {
		return fmt.Errorf("append log of suite run %d: %w", suiteRunID, err)
	}
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(seq), 0) + 1 FROM suite_logs WHERE suite_run_id = $1`,
		suiteRunID).Scan(&seq); err != nil {
		return fmt.Errorf("append log of suite run %d: %w", suiteRunID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO suite_logs (suite_run_id, seq, start_offset, data) VALUES ($1, $2, $3, $4)`,
		suiteRunID, seq, end-int64(len(chunk)), chunk); err != nil {
		return fmt.Errorf("append log of suite run %d: %w", suiteRunID, err)
	}
	return tx.Commit()
}

// ReadLog returns a suite run's log from byte offset on (empty at or beyond the
// end) and whether the suite run is final. EINVALID for a negative offset,
// ENOTFOUND when there is no such suite run.
func (s *VerificationService) ReadLog(ctx context.Context, suiteRunID int64, offset int64) ([]byte, bool, error) {
	if offset < 0 {
		return nil, false, patchgate.Errorf(patchgate.EINVALID, "read log of suite run %d: negative offset %d", suiteRunID, offset)
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	var state patchgate.RunState
	var size int64
	if err := tx.QueryRow(ctx, `SELECT state, log_bytes FROM suite_runs WHERE id = $1`, suiteRunID).Scan(&state, &size); err != nil {
		return nil, false, notFound(err, "suite run %d", suiteRunID)
	}
	if offset >= size {
		return []byte{}, state.Final(), nil
	}
	// The chunk holding offset is the last one starting at or before it; both
	// lookups seek the unique key (suite_run_id, start_offset).
	rows, err := tx.Query(ctx, `SELECT start_offset, data FROM suite_logs
		WHERE suite_run_id = $1 AND start_offset >= (SELECT max(start_offset) FROM suite_logs
			WHERE suite_run_id = $1 AND start_offset <= $2)
		ORDER BY start_offset`, suiteRunID, offset)
	if err != nil {
		return nil, false, fmt.Errorf("read log of suite run %d: %w", suiteRunID, err)
	}
	defer rows.Close()
	data := make([]byte, 0, size-offset)
	for rows.Next() {
		var start int64
		var chunk []byte
		if err := rows.Scan(&start, &chunk); err != nil {
			return nil, false, fmt.Errorf("read log of suite run %d: %w", suiteRunID, err)
		}
		if start < offset {
			chunk = chunk[offset-start:]
		}
		data = append(data, chunk...)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read log of suite run %d: %w", suiteRunID, err)
	}
	return data, state.Final(), nil
}

// suiteRunEntry is the suite_run.state entry of sr's final state (its ID,
// VerificationID, Name, Required and State as stored).
func suiteRunEntry(ctx context.Context, sr *patchgate.SuiteRun) patchgate.AuditEntry {
	return patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx), Action: patchgate.AuditSuiteRunState,
		Subject: fmt.Sprintf("suite_run:%d", sr.ID), Detail: patchgate.AuditSuiteRunRecord(sr)}
}
