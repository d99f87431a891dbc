package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testAuditKey keys the audit chain of every migrated test database.
var testAuditKey = []byte("patchgate test audit key, 32 b..")

// rechain rewrites the log from entry from on as someone who can write the
// database would: edit changes entry from, and every entry from there on gets
// the hash the chain needs, plain (key nil) or keyed. On SQLite it writes with
// INSERT OR REPLACE, on PostgreSQL with UPDATE; the guards must be dropped
// first, except where the test means to see them refuse.
func rechain(t *testing.T, db *store.DB, from int64, key []byte, edit func(e *patchgate.AuditEntry)) error {
	t.Helper()
	ctx := context.Background()
	es, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatalf("FindAudit: %v", err)
	}
	prev := ""
	for _, e := range es {
		if e.Seq < from {
			prev = e.Hash
			continue
		}
		if e.Seq == from {
			edit(e)
		}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		if key != nil {
			e.Hash = e.ComputeMAC(key)
		}
		prev = e.Hash
		detail, _ := json.Marshal(e.Detail)
		if e.Detail == nil {
			detail = []byte("{}")
		}
		stmt := `INSERT OR REPLACE INTO audit_log (seq, at, actor, action, subject, sha, detail, prev_hash, hash)
			SELECT seq, at, $2, action, subject, sha, $3, $4, $5 FROM audit_log WHERE seq = $1`
		if db.Dialect() == store.DialectPostgres {
			stmt = `UPDATE audit_log SET actor = $2, detail = $3, prev_hash = $4, hash = $5 WHERE seq = $1`
		}
		if _, err := db.SQL().ExecContext(ctx, stmt, e.Seq, e.Actor, string(detail), e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("rewrite entry %d: %w", e.Seq, err)
		}
	}
	return nil
}

// wantBreak fails unless err is an *AuditBreak at seq whose reason has reason.
func wantBreak(t *testing.T, b *patchgate.AuditBreak, seq int64, reason string) {
	t.Helper()
	if b == nil || b.Seq != seq || !strings.Contains(b.Reason, reason) {
		t.Fatalf("break %+v; want one at entry %d saying %q", b, seq, reason)
	}
}

func breakOf(err error) *patchgate.AuditBreak {
	var b *patchgate.AuditBreak
	errors.As(err, &b)
	return b
}

// mustCheck runs CheckAudit.
func mustCheck(t *testing.T, db *store.DB, check patchgate.AuditCheck) *patchgate.AuditReport {
	t.Helper()
	rep, err := store.NewAuditService(db).CheckAudit(context.Background(), check)
	if err != nil {
		t.Fatalf("CheckAudit: %v", err)
	}
	return rep
}

func testAuditKeyed(t *testing.T, migrated, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	entryOf := func(t *testing.T, db *store.DB, seq int64) *patchgate.AuditEntry {
		t.Helper()
		es, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{AfterSeq: seq - 1, Limit: 1})
		if err != nil || len(es) != 1 {
			t.Fatalf("FindAudit(entry %d) = %v, %v", seq, es, err)
		}
		return es[0]
	}

	t.Run("a gap in seq is refused at insert", func(t *testing.T) {
		db := migrated(t)
		mustTokens(t, db, "t", 2)
		for _, seq := range []int64{4, 2, 0} {
			_, err := db.SQL().ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
				VALUES ($1, '2026-01-02T03:04:05.000000Z', 'mallory', 'token.created', 'token:x', '{}', '', '')`, seq)
			if err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
				t.Errorf("INSERT of entry %d after entry 2: error %v, want the append-only trigger's", seq, err)
			}
		}
		if n, err := store.NewAuditService(db).VerifyAudit(ctx); n != 2 || err != nil {
			t.Errorf("VerifyAudit() = %d, %v; want 2, nil", n, err)
		}
	})

	t.Run("INSERT OR REPLACE cannot rewrite an entry", func(t *testing.T) {
		db := migrated(t)
		mustTokens(t, db, "t", 3)
		before := entryOf(t, db, 2)
		stmt := `INSERT OR REPLACE INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
			VALUES (2, '2026-01-02T03:04:05.000000Z', 'mallory', 'token.created', 'token:x', '{}', '', '')`
		if db.Dialect() == store.DialectPostgres {
			stmt = `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
				VALUES (2, '2026-01-02T03:04:05.000000Z', 'mallory', 'token.created', 'token:x', '{}', '', '')
				ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor`
		}
		if _, err := db.SQL().ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
			t.Errorf("%s: error %v, want the append-only trigger's", stmt, err)
		}
		if after := entryOf(t, db, 2); !reflect.DeepEqual(after, before) {
			t.Errorf("entry 2 became %+v, want it unchanged %+v", after, before)
		}
		if err := rechain(t, db, 2, testAuditKey, func(e *patchgate.AuditEntry) { e.Actor = "mallory" }); err == nil ||
			!strings.Contains(err.Error(), "audit log is append-only") {
			t.Errorf("rewriting the chain with the guards in place: error %v, want the append-only trigger's", err)
		}
	})

	if open(t).Dialect() == store.DialectSQLite {
		// Why the insert trigger is needed: SQLite's REPLACE deletes the row it
		// conflicts with without firing DELETE triggers (recursive_triggers is
		// off), so audit_log_no_delete alone never stopped it.
		t.Run("REPLACE does not fire the delete trigger", func(t *testing.T) {
			db := migrated(t)
			mustTokens(t, db, "t", 3)
			if _, err := db.SQL().ExecContext(ctx, `DROP TRIGGER audit_log_append_next`); err != nil {
				t.Fatal(err)
			}
			var rt int
			if err := db.SQL().QueryRowContext(ctx, `PRAGMA recursive_triggers`).Scan(&rt); err != nil || rt != 0 {
				t.Fatalf("recursive_triggers = %d, %v; want 0", rt, err)
			}
			if err := rechain(t, db, 2, nil, func(e *patchgate.AuditEntry) { e.Actor = "mallory" }); err != nil {
				t.Fatalf("INSERT OR REPLACE with audit_log_no_delete in place: %v; SQLite fired the delete trigger after all", err)
			}
			if got := entryOf(t, db, 2).Actor; got != "mallory" {
				t.Fatalf("entry 2 actor = %q after REPLACE, want mallory", got)
			}
			_, err := store.NewAuditService(db).VerifyAudit(ctx)
			wantBreak(t, breakOf(err), 2, "not keyed")
		})
	}

	t.Run("a rewrite with recomputed plain hashes is found", func(t *testing.T) {
		// Without a key (the chain before keying), the same rewrite passes:
		// that is the attack.
		plain := migrated(t)
		plain.AuditKey = nil
		mustTokens(t, plain, "t", 5)
		dropAuditGuards(t, plain)
		if err := rechain(t, plain, 2, nil, func(e *patchgate.AuditEntry) { e.Detail = map[string]string{"role": "admin"} }); err != nil {
			t.Fatal(err)
		}
		if n, err := store.NewAuditService(plain).VerifyAudit(ctx); n != 5 || err != nil {
			t.Fatalf("plain chain: VerifyAudit() = %d, %v; want the rewrite to pass unkeyed (5, nil)", n, err)
		}

		db := migrated(t)
		mustTokens(t, db, "t", 5)
		dropAuditGuards(t, db)
		if err := rechain(t, db, 2, nil, func(e *patchgate.AuditEntry) { e.Detail = map[string]string{"role": "admin"} }); err != nil {
			t.Fatal(err)
		}
		n, err := store.NewAuditService(db).VerifyAudit(ctx)
		wantBreak(t, breakOf(err), 2, "not keyed")
		if n != 1 {
			t.Errorf("VerifyAudit() checked %d, want 1", n)
		}
		// Even rewritten with a MAC under another key.
		db2 := migrated(t)
		mustTokens(t, db2, "t", 5)
		dropAuditGuards(t, db2)
		if err := rechain(t, db2, 2, []byte("a key mallory made up"), func(e *patchgate.AuditEntry) { e.Actor = "mallory" }); err != nil {
			t.Fatal(err)
		}
		_, err = store.NewAuditService(db2).VerifyAudit(ctx)
		wantBreak(t, breakOf(err), 2, "MAC mismatch")
	})

	t.Run("records written past the services are reported", func(t *testing.T) {
		db := migrated(t)
		releases := store.NewReleaseService(db)
		promoted := candidateIn(t, releases, "acme/payments", patchgate.CandidatePromoted)
		open := candidateIn(t, releases, "acme/api", patchgate.CandidateOpen)
		withdrawn := candidateIn(t, releases, "acme/web", patchgate.CandidateOpen)
		if err := releases.WithdrawApproval(ctx, withdrawn.ID, patchgate.ForgeUser{Login: "bob"}); err != nil {
			t.Fatal(err)
		}
		f := newLinkFixture(t, db)
		if rep := mustCheck(t, db, patchgate.AuditCheck{}); !rep.OK() {
			t.Fatalf("before: report %+v, want OK", rep)
		}
		for _, s := range []string{
			fmt.Sprintf(`INSERT INTO approvals (candidate_id, sha, approver, via, created_at)
				VALUES (%d, '%s', 'mallory', 'sql', '2026-01-02T03:04:05.000000Z')`, open.ID, open.SHA),
			fmt.Sprintf(`UPDATE candidates SET state = 'promoted' WHERE id = %d`, open.ID),
			fmt.Sprintf(`UPDATE approvals SET withdrawn_at = '2026-01-02T03:04:05.000000Z' WHERE candidate_id = %d`, promoted.ID),
			fmt.Sprintf(`DELETE FROM approvals WHERE candidate_id = %d`, withdrawn.ID),
			fmt.Sprintf(`UPDATE tickets SET state = 'fix_verified' WHERE id = %d`, f.pay1.ID),
		} {
			if _, err := db.SQL().ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		rep := mustCheck(t, db, patchgate.AuditCheck{})
		want := []string{
			fmt.Sprintf("approval %%d of candidate %d by bob is withdrawn but has no approval.withdrawn entry", promoted.ID),
			fmt.Sprintf("approval %%d of candidate %d by mallory at %s has no approval.created entry", open.ID, open.SHA[:12]),
			fmt.Sprintf("approval.created entry %%d (candidate %d by bob at %s) has no approval row", withdrawn.ID, withdrawn.SHA[:12]),
			"approval.withdrawn entry %d names approval %d, which does not exist",
			fmt.Sprintf("candidate %d is promoted but has no release.promoted entry", open.ID),
			"ticket PAY-1 is fix_verified but has no ticket.state entry (a ticket without one is open)",
		}
		if rep.Break != nil || len(rep.Unaudited) != len(want) {
			t.Fatalf("report: break %v, unaudited\n\t%s\nwant no break and\n\t%s", rep.Break,
				strings.Join(rep.Unaudited, "\n\t"), strings.Join(want, "\n\t"))
		}
		for i, w := range want {
			if !matchesNumbers(rep.Unaudited[i], w) {
				t.Errorf("unaudited[%d] = %q, want %q", i, rep.Unaudited[i], w)
			}
		}
	})

	t.Run("a wrong key is found", func(t *testing.T) {
		db := migrated(t)
		mustTokens(t, db, "t", 3)
		other := reopen(t, db)
		other.AuditKey = []byte("not the key the log was written with")
		_, err := store.NewAuditService(other).VerifyAudit(ctx)
		wantBreak(t, breakOf(err), 1, "MAC mismatch")
		if err := store.NewAuditService(other).CheckKey(ctx); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Errorf("CheckKey with another key: %v, want it to say the key does not match", err)
		}
		if err := store.NewTokenService(other).CreateToken(as("root"), &patchgate.Token{Name: "x", Role: patchgate.RoleViewer,
			Hash: patchgate.HashToken("x")}); err == nil || !strings.Contains(err.Error(), "audit.key_file") {
			t.Errorf("CreateToken with another key: %v, want a refusal naming audit.key_file", err)
		}
		keyless := reopen(t, db)
		keyless.AuditKey = nil
		_, err = store.NewAuditService(keyless).VerifyAudit(ctx)
		wantBreak(t, breakOf(err), 1, "needs the audit key")
		if err := store.NewTokenService(keyless).CreateToken(as("root"), &patchgate.Token{Name: "x", Role: patchgate.RoleViewer,
			Hash: patchgate.HashToken("x")}); err == nil || !strings.Contains(err.Error(), "is keyed") {
			t.Errorf("CreateToken without the key: %v, want a refusal", err)
		}
		if n, err := store.NewAuditService(db).VerifyAudit(ctx); n != 3 || err != nil {
			t.Errorf("VerifyAudit() with the right key = %d, %v; want 3, nil", n, err)
		}
		if err := store.NewAuditService(db).CheckKey(ctx); err != nil {
			t.Errorf("CheckKey with the right key: %v", err)
		}
	})

	t.Run("truncation after an anchored head is found", func(t *testing.T) {
		db := migrated(t)
		audit := store.NewAuditService(db)
		if h, err := audit.HeadAudit(ctx); err != nil || h != (patchgate.AuditHead{}) || h.String() != "0:" {
			t.Fatalf("HeadAudit() of an empty log = %v, %v; want 0:", h, err)
		}
		mustTokens(t, db, "t", 5)
		head, err := audit.HeadAudit(ctx)
		if err != nil || head.Seq != 5 || head.Hash != entryOf(t, db, 5).Hash {
			t.Fatalf("HeadAudit() = %v, %v; want entry 5", head, err)
		}
		parsed, err := patchgate.ParseAuditHead(head.String())
		if err != nil || parsed != head {
			t.Fatalf("ParseAuditHead(%q) = %v, %v; want %v", head.String(), parsed, err, head)
		}
		if rep := mustCheck(t, db, patchgate.AuditCheck{Head: &head}); !rep.OK() || rep.Head != head || rep.Checked != 5 {
			t.Fatalf("report %+v; want OK at the anchored head", rep)
		}
		wrong := patchgate.AuditHead{Seq: 3, Hash: strings.Repeat("0", 64)}
		wantBreak(t, mustCheck(t, db, patchgate.AuditCheck{Head: &wrong}).Break, 3, "anchored head mismatch")

		dropAuditGuards(t, db)
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM audit_log WHERE seq > 3`); err != nil {
			t.Fatal(err)
		}
		if rep := mustCheck(t, db, patchgate.AuditCheck{}); !rep.OK() {
			t.Fatalf("without an anchor: report %+v; a log cut at its end looks whole", rep)
		}
		rep := mustCheck(t, db, patchgate.AuditCheck{Head: &head})
		wantBreak(t, rep.Break, 4, "truncated")
		if rep.Checked != 3 {
			t.Errorf("checked %d, want 3", rep.Checked)
		}
	})

	t.Run("an upgraded log is sealed", func(t *testing.T) {
		db := open(t)
		if err := db.MigrateTo(ctx, 6); err != nil {
			t.Fatal(err)
		}
		db.Now = newClock().Now
		mustConfigs(t, db, 3) // plain, as before keys
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db.AuditKey = testAuditKey
		audit := store.NewAuditService(db)
		if err := audit.CheckKey(ctx); err == nil || !strings.Contains(err.Error(), "patchgate audit seal") {
			t.Errorf("CheckKey before sealing: %v, want it to say run `patchgate audit seal`", err)
		}
		if err := store.NewTokenService(db).CreateToken(as("root"), &patchgate.Token{Name: "x", Role: patchgate.RoleViewer,
			Hash: patchgate.HashToken("x")}); err == nil || !strings.Contains(err.Error(), "not keyed yet") {
			t.Errorf("CreateToken before sealing: %v, want a refusal", err)
		}
		wantBreak(t, mustCheck(t, db, patchgate.AuditCheck{}).Break, 1, "patchgate audit seal")

		if ok, err := audit.SealAudit(ctx); !ok || err != nil {
			t.Fatalf("SealAudit() = %v, %v; want true, nil", ok, err)
		}
		if ok, err := audit.SealAudit(ctx); ok || err != nil {
			t.Fatalf("second SealAudit() = %v, %v; want false, nil", ok, err)
		}
		seal := entryOf(t, db, 4)
		if seal.Action != patchgate.AuditKeyed || seal.Detail["plain_through"] != "3" || seal.Hash != seal.ComputeMAC(testAuditKey) {
			t.Errorf("entry 4 = %+v, want the audit.keyed entry vouching for 1-3", seal)
		}
		mustTokens(t, db, "new", 2)
		if err := audit.CheckKey(ctx); err != nil {
			t.Errorf("CheckKey after sealing: %v", err)
		}
		rep := mustCheck(t, db, patchgate.AuditCheck{})
		if !rep.OK() || rep.Checked != 6 || rep.KeyedFrom != 4 {
			t.Fatalf("report %+v; want OK, 6 entries, keyed from 4", rep)
		}
		if h := entryOf(t, db, 6); h.Hash != h.ComputeMAC(testAuditKey) {
			t.Errorf("entry 6 is not keyed")
		}

		// Cutting the keyed part off leaves plain entries nothing vouches for.
		dropAuditGuards(t, db)
		if _, err := db.SQL().ExecContext(ctx, `DELETE FROM audit_log WHERE seq > 3`); err != nil {
			t.Fatal(err)
		}
		wantBreak(t, mustCheck(t, db, patchgate.AuditCheck{}).Break, 1, "not keyed")
	})

	t.Run("sealing an empty log keys it from its first entry", func(t *testing.T) {
		db := migrated(t)
		audit := store.NewAuditService(db)
		if ok, err := audit.SealAudit(ctx); !ok || err != nil {
			t.Fatalf("SealAudit() of an empty log = %v, %v; want true, nil", ok, err)
		}
		mustTokens(t, db, "t", 2)
		if seal := entryOf(t, db, 1); seal.Action != patchgate.AuditKeyed || seal.Detail["plain_through"] != "0" {
			t.Errorf("entry 1 = %+v, want audit.keyed through 0", seal)
		}
		if rep := mustCheck(t, db, patchgate.AuditCheck{}); !rep.OK() || rep.Checked != 3 || rep.KeyedFrom != 1 {
			t.Errorf("report %+v; want OK, 3 entries, keyed from 1", rep)
		}
		other := reopen(t, db)
		other.AuditKey = []byte("another host's new key")
		if err := store.NewAuditService(other).CheckKey(ctx); err == nil {
			t.Errorf("CheckKey with another key after sealing an empty log passed")
		}
	})

	t.Run("a rewritten plain part breaks the seal", func(t *testing.T) {
		db := open(t)
		if err := db.MigrateTo(ctx, 6); err != nil {
			t.Fatal(err)
		}
		db.Now = newClock().Now
		mustConfigs(t, db, 3)
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db.AuditKey = testAuditKey
		if _, err := store.NewAuditService(db).SealAudit(ctx); err != nil {
			t.Fatal(err)
		}
		mustTokens(t, db, "new", 2)
		dropAuditGuards(t, db)
		// Rewrite entry 2 and recompute the plain hashes of 2 and 3 only.
		if err := rechainThrough(t, db, 2, 3, func(e *patchgate.AuditEntry) { e.Actor = "mallory" }); err != nil {
			t.Fatal(err)
		}
		wantBreak(t, mustCheck(t, db, patchgate.AuditCheck{}).Break, 4, "prev-hash mismatch")
	})
}

// rechainThrough is rechain with plain hashes that stops after entry through.
func rechainThrough(t *testing.T, db *store.DB, from, through int64, edit func(e *patchgate.AuditEntry)) error {
	t.Helper()
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE audit_tail AS SELECT * FROM audit_log WHERE seq > $1`, through); err != nil {
		return err
	}
	if _, err := db.SQL().ExecContext(ctx, `DELETE FROM audit_log WHERE seq > $1`, through); err != nil {
		return err
	}
	if err := rechain(t, db, from, nil, edit); err != nil {
		return err
	}
	_, err := db.SQL().ExecContext(ctx, `INSERT INTO audit_log SELECT * FROM audit_tail`)
	return err
}

// matchesNumbers reports whether got is want with each %d replaced by a number.
func matchesNumbers(got, want string) bool {
	parts := strings.Split(want, "%d")
	if !strings.HasPrefix(got, parts[0]) {
		return false
	}
	got = got[len(parts[0]):]
	for _, p := range parts[1:] {
		i := 0
		for i < len(got) && got[i] >= '0' && got[i] <= '9' {
			i++
		}
		if i == 0 || !strings.HasPrefix(got[i:], p) {
			return false
		}
		got = got[i+len(p):]
	}
	return got == ""
}

// mustConfigs appends n configuration entries through the store: they touch no
// table but the audit log, so they can be written on an old schema (tokens
// gained columns since).
func mustConfigs(t *testing.T, db *store.DB, n int) {
	t.Helper()
	s := store.NewAuditService(db)
	for i := range n {
		if _, err := s.RecordConfig(as("admin"), fmt.Sprintf("digest-%d", i), map[string]string{"n": fmt.Sprint(i)}); err != nil {
			t.Fatalf("RecordConfig %d: %v", i, err)
		}
	}
}
