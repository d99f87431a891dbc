package store_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// as returns a context acting as the named developer.
func as(name string) context.Context {
	return patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: name, Role: patchgate.RoleDeveloper})
}

// auditTail reads the entries appended since the last call.
type auditTail struct {
	audit *store.AuditService
	seq   int64
}

// next returns the new entries rendered as "actor action subject sha detail",
// and checks that each is chained to the one before.
func (a *auditTail) next(t *testing.T) []string {
	t.Helper()
	es, err := a.audit.FindAudit(context.Background(), patchgate.AuditFilter{AfterSeq: a.seq, Limit: store.MaxLimit})
	if err != nil {
		t.Fatalf("FindAudit: %v", err)
	}
	out := []string{}
	for _, e := range es {
		if e.Seq != a.seq+1 || e.At.IsZero() || e.Hash != e.ComputeMAC(testAuditKey) || len(e.Hash) != 64 {
			t.Errorf("entry %+v after seq %d: want the next seq, a time and its own MAC", e, a.seq)
		}
		a.seq = e.Seq
		out = append(out, describeEntry(e))
	}
	return out
}

func describeEntry(e *patchgate.AuditEntry) string {
	s := e.Actor + " " + e.Action + " " + e.Subject
	if e.SHA != "" {
		s += " @" + e.SHA[:4]
	}
	if len(e.Detail) > 0 {
		b, _ := json.Marshal(e.Detail) // sorted keys
		s += " " + string(b)
	}
	return s
}

// wantEntries fails unless got equals want, element by element.
func wantEntries(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s appended\n\t%s\nwant\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// dropAuditGuards drops the append-only triggers, as a DBA with the rights to
// could, so that a test can tamper with the log.
func dropAuditGuards(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`, `DROP TRIGGER audit_log_append_next`}
	if db.Dialect() == store.DialectPostgres {
		stmts = []string{`DROP TRIGGER audit_log_no_update ON audit_log`, `DROP TRIGGER audit_log_no_delete ON audit_log`,
			`DROP TRIGGER audit_log_no_truncate ON audit_log`, `DROP TRIGGER audit_log_append_next ON audit_log`}
	}
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// mustTokens creates n tokens named prefix0…, one audit entry each.
func mustTokens(t *testing.T, db *store.DB, prefix string, n int) {
	t.Helper()
	s := store.NewTokenService(db)
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		if err := s.CreateToken(as("admin"), &patchgate.Token{Name: name, Role: patchgate.RoleViewer,
			Hash: patchgate.HashToken(name)}); err != nil {
			t.Fatalf("CreateToken(%s): %v", name, err)
		}
	}
}

func testAudit(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	t.Run("records", func(t *testing.T) { testAuditRecords(t, open) })

	t.Run("configuration changes", func(t *testing.T) {
		audit := store.NewAuditService(open(t))
		steps := []struct {
			digest string
			want   bool
		}{{"a", true}, {"a", false}, {"b", true}, {"a", true}, {"a", false}}
		for i, s := range steps {
			got, err := audit.RecordConfig(ctx, s.digest, map[string]string{"repos": "2"})
			if err != nil || got != s.want {
				t.Fatalf("step %d RecordConfig(%s) = %v, %v; want %v", i, s.digest, got, err, s.want)
			}
		}
		action := patchgate.AuditConfigChanged
		entries, err := audit.FindAudit(ctx, patchgate.AuditFilter{Action: &action})
		if err != nil || len(entries) != 3 || entries[2].Detail["digest"] != "a" || entries[2].Actor != patchgate.SystemActor {
			t.Fatalf("got %+v, %v; want three config.changed entries by patchgate", entries, err)
		}
		if _, err := audit.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("empty log verifies", func(t *testing.T) {
		audit := store.NewAuditService(open(t))
		if n, err := audit.VerifyAudit(ctx); n != 0 || err != nil {
			t.Errorf("VerifyAudit() = %d, %v; want 0, nil", n, err)
		}
		es, err := audit.FindAudit(ctx, patchgate.AuditFilter{})
		if err != nil || len(es) != 0 || es == nil {
			t.Errorf("FindAudit() = %#v, %v; want an empty list", es, err)
		}
	})

	t.Run("each action appends its entry", func(t *testing.T) {
		db := open(t)
		tail := &auditTail{audit: store.NewAuditService(db)}
		tokens := store.NewTokenService(db)
		tickets := store.NewTicketService(db)
		links := store.NewLinkService(db)
		verifications := store.NewVerificationService(db)

		ci := &patchgate.Token{Name: "ci", Role: patchgate.RoleDeveloper, Hash: patchgate.HashToken("s1")}
		if err := tokens.CreateToken(as("root"), ci); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "CreateToken", tail.next(t), `root token.created token:ci {"hash":"`+patchgate.AuditFingerprint(ci.Hash)+
			`","id":"1","role":"developer"}`)
		if err := tokens.CreateToken(ctx, &patchgate.Token{Name: "cli", Role: patchgate.RoleAdmin, Hash: patchgate.HashToken("s2")}); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "CreateToken without a principal", tail.next(t), `patchgate token.created token:cli {"hash":"`+
			patchgate.AuditFingerprint(patchgate.HashToken("s2"))+`","id":"2","role":"admin"}`)
		err := tokens.CreateToken(as("root"), &patchgate.Token{Name: "ci", Role: patchgate.RoleViewer, Hash: patchgate.HashToken("s3")})
		wantCode(t, err, patchgate.ECONFLICT)
		wantEntries(t, "a CreateToken that failed", tail.next(t))
		if err := tokens.RevokeToken(as("root"), "ci"); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "RevokeToken", tail.next(t), `root token.revoked token:ci {"role":"developer"}`)
		if err := tokens.RevokeToken(as("root"), "ci"); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "a second RevokeToken", tail.next(t))
		wantCode(t, tokens.RevokeToken(as("root"), "nobody"), patchgate.ENOTFOUND)
		wantEntries(t, "RevokeToken of no token", tail.next(t))

		f := newLinkFixture(t, db)
		// Each new ticket is recorded as the reports read it (ticket.recorded).
		wantEntries(t, "EnsureTicket and ApplyChangeUpdate", tail.next(t),
			`patchgate ticket.recorded ticket:PAY-1 {"created_at":"2026-01-02T03:04:13.123456Z","id":"1","labels":"","number":"0","opened_at":"2026-01-02T03:04:13.123456Z","released_at":"","reopened_at":"","repo":"","severity":"unknown","title":"","tracker":"external","verified_at":""}`,
			`patchgate ticket.recorded ticket:PAY-2 {"created_at":"2026-01-02T03:04:15.123456Z","id":"2","labels":"","number":"0","opened_at":"2026-01-02T03:04:15.123456Z","released_at":"","reopened_at":"","repo":"","severity":"unknown","title":"","tracker":"external","verified_at":""}`,
			fmt.Sprintf(`patchgate change.author change:%d @4100 {"author":"dev","change":"acme/payments#1","was":""}`, f.change.ID))
		if err := tickets.SetTicketStateForTest(as("alice"), f.pay1.ID, patchgate.TicketFixProposed); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "SetTicketState", tail.next(t), `alice ticket.state ticket:PAY-1 {"from":"open","to":"fix_proposed"}`)
		if err := tickets.SetTicketStateForTest(as("alice"), f.pay1.ID, patchgate.TicketFixProposed); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "SetTicketState to the same state", tail.next(t))
		wantCode(t, tickets.SetTicketStateForTest(as("alice"), 999999, patchgate.TicketOpen), patchgate.ENOTFOUND)
		wantEntries(t, "SetTicketState of no ticket", tail.next(t))

		change := fmt.Sprintf("change:%d", f.change.ID)
		manual := &patchgate.Link{TicketID: f.pay2.ID, ChangeID: f.change.ID, CommitSHA: sha("A"), Provenance: "linked by bob: hotfix",
			CreatedBy: "bob"}
		if err := links.CreateManualLink(as("bob"), manual); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "CreateManualLink", tail.next(t),
			`bob link.created ticket:PAY-2 `+change+` @4100 {"at":"2026-01-02T03:04:23.123456Z","kind":"fixes","provenance":"linked by bob: hotfix","repo":"acme/payments","source":"manual","ticket_id":"2"}`)
		wantCode(t, links.CreateManualLink(as("bob"), &patchgate.Link{TicketID: f.pay2.ID, ChangeID: f.change.ID,
			CommitSHA: sha("A"), CreatedBy: "bob"}), patchgate.ECONFLICT)
		wantEntries(t, "a CreateManualLink that failed", tail.next(t))

		// Extraction is patchgate's doing even when a user's request set it off.
		_, _, err = links.SyncExtractedLinks(as("alice"), f.change.ID, f.textOnly, []*patchgate.Link{
			f.link(f.pay1, patchgate.SourceTitle, patchgate.LinkRelates, "PAY-1"),
			f.link(f.pay2, patchgate.SourceBody, patchgate.LinkFixes, "Fixes PAY-2"),
		})
		if err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "SyncExtractedLinks adding", tail.next(t),
			`patchgate link.created ticket:PAY-1 `+change+` {"at":"2026-01-02T03:04:26.123456Z","kind":"relates","provenance":"PAY-1","repo":"acme/payments","source":"title","ticket_id":"1"}`,
			`patchgate link.created ticket:PAY-2 `+change+` {"at":"2026-01-02T03:04:26.123456Z","kind":"fixes","provenance":"Fixes PAY-2","repo":"acme/payments","source":"body","ticket_id":"2"}`)
		_, _, err = links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, []*patchgate.Link{
			f.link(f.pay1, patchgate.SourceTitle, patchgate.LinkFixes, "Fixes PAY-1"),
			f.link(f.pay2, patchgate.SourceBody, patchgate.LinkFixes, "Fixes PAY-2 (edited)"),
		})
		if err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "SyncExtractedLinks changing a kind", tail.next(t),
			`patchgate link.removed ticket:PAY-1 `+change+` {"at":"2026-01-02T03:04:26.123456Z","kind":"relates","provenance":"PAY-1","repo":"acme/payments","source":"title","ticket_id":"1"}`,
			`patchgate link.created ticket:PAY-1 `+change+` {"at":"2026-01-02T03:04:29.123456Z","kind":"fixes","provenance":"Fixes PAY-1","repo":"acme/payments","source":"title","ticket_id":"1"}`)

		if err := links.DeleteLinks(as("carol"), f.pay2.ID, f.change.ID, "carol"); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "DeleteLinks", tail.next(t),
			`carol link.removed ticket:PAY-2 `+change+` @4100 {"at":"2026-01-02T03:04:23.123456Z","kind":"fixes","provenance":"linked by bob: hotfix","repo":"acme/payments","source":"manual","ticket_id":"2"}`,
			`carol link.removed ticket:PAY-2 `+change+` {"at":"2026-01-02T03:04:26.123456Z","kind":"fixes","provenance":"Fixes PAY-2 (edited)","repo":"acme/payments","source":"body","ticket_id":"2"}`)
		if err := links.DeleteLinks(ctx, f.pay1.ID, f.change.ID, "dave"); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "DeleteLinks without a principal", tail.next(t),
			`dave link.removed ticket:PAY-1 `+change+` {"at":"2026-01-02T03:04:29.123456Z","kind":"fixes","provenance":"Fixes PAY-1","repo":"acme/payments","source":"title","ticket_id":"1"}`)
		wantCode(t, links.DeleteLinks(as("carol"), f.pay2.ID, f.change.ID, "carol"), patchgate.ENOTFOUND)
		wantEntries(t, "DeleteLinks of nothing", tail.next(t))

		v := mustCreate(t, verifications, newVerification(f.change.ID, sha("A"), "d1"))
		if err := verifications.ClaimVerification(ctx, v.ID, 1, "w1"); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "CreateVerification and ClaimVerification", tail.next(t))
		if err := verifications.FinishVerification(ctx, v.ID, patchgate.RunFailure, "unit failed"); err != nil {
			t.Fatal(err)
		}
		wantEntries(t, "FinishVerification", tail.next(t), fmt.Sprintf(
			`patchgate verdict verification:%d @4100 {"config_digest":"d1","reason":"unit failed","repo":"github:acme/payments",`+
				`"require_proof":"false","sha":"%s","state":"failure"}`, v.ID, v.SHA))
		wantCode(t, verifications.FinishVerification(ctx, v.ID, patchgate.RunSuccess, ""), patchgate.ECONFLICT)
		wantEntries(t, "a late FinishVerification", tail.next(t))

		n, err := tail.audit.VerifyAudit(ctx)
		if err != nil || n != tail.seq {
			t.Errorf("VerifyAudit() = %d, %v; want %d, nil", n, err, tail.seq)
		}
		// Every ticket state set through the service has its entry.
		if rep, err := tail.audit.CheckAudit(ctx, patchgate.AuditCheck{}); err != nil || !rep.OK() {
			t.Errorf("CheckAudit() = %+v, %v; want OK", rep, err)
		}
	})

	t.Run("a failed append rolls the change back", func(t *testing.T) {
		db := open(t)
		if _, err := db.SQL().ExecContext(ctx, `ALTER TABLE audit_log RENAME TO audit_log_gone`); err != nil {
			t.Fatal(err)
		}
		tokens := store.NewTokenService(db)
		if err := tokens.CreateToken(as("root"), &patchgate.Token{Name: "ci", Role: patchgate.RoleViewer,
			Hash: patchgate.HashToken("s1")}); err == nil {
			t.Fatal("CreateToken without an audit log succeeded")
		}
		if all, err := tokens.FindTokens(ctx); err != nil || len(all) != 0 {
			t.Errorf("FindTokens() = %d tokens, %v; want none: the token must not outlive its audit entry", len(all), err)
		}
	})

	t.Run("find filters", func(t *testing.T) {
		db := open(t)
		audit := store.NewAuditService(db)
		mustTokens(t, db, "t", 3)
		if err := store.NewTokenService(db).RevokeToken(as("bob"), "t1"); err != nil {
			t.Fatal(err)
		}
		seqs := func(f patchgate.AuditFilter) []int64 {
			t.Helper()
			es, err := audit.FindAudit(ctx, f)
			if err != nil {
				t.Fatalf("FindAudit(%+v): %v", f, err)
			}
			out := []int64{}
			for _, e := range es {
				out = append(out, e.Seq)
			}
			return out
		}
		for _, tc := range []struct {
			name   string
			filter patchgate.AuditFilter
			want   []int64
		}{
			{name: "all", filter: patchgate.AuditFilter{}, want: []int64{1, 2, 3, 4}},
			{name: "actor", filter: patchgate.AuditFilter{Actor: ptr("bob")}, want: []int64{4}},
			{name: "action", filter: patchgate.AuditFilter{Action: ptr(patchgate.AuditTokenCreated)}, want: []int64{1, 2, 3}},
			{name: "subject", filter: patchgate.AuditFilter{Subject: ptr("token:t1")}, want: []int64{2, 4}},
			{name: "after", filter: patchgate.AuditFilter{AfterSeq: 2}, want: []int64{3, 4}},
			{name: "limit", filter: patchgate.AuditFilter{AfterSeq: 1, Limit: 2}, want: []int64{2, 3}},
			{name: "none", filter: patchgate.AuditFilter{Actor: ptr("mallory")}, want: []int64{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := seqs(tc.filter); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got seqs %v, want %v", got, tc.want)
				}
			})
		}
	})

	t.Run("the schema refuses edits", func(t *testing.T) {
		db := open(t)
		mustTokens(t, db, "t", 2)
		stmts := []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 1`, `DELETE FROM audit_log WHERE seq = 2`,
			`DELETE FROM audit_log`}
		if db.Dialect() == store.DialectPostgres {
			stmts = append(stmts, `TRUNCATE audit_log`)
		}
		for _, s := range stmts {
			_, err := db.SQL().ExecContext(ctx, s)
			if err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
				t.Errorf("%s: error %v, want the append-only trigger's", s, err)
			}
		}
		if n, err := store.NewAuditService(db).VerifyAudit(ctx); n != 2 || err != nil {
			t.Errorf("VerifyAudit() = %d, %v; want 2, nil", n, err)
		}
	})

	t.Run("verify names the first broken entry", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			tamper []string // statements, with the guards dropped
			rehash int64    // an entry to give a new detail and its correct plain hash
			mac    bool     // … or its correct MAC
			seq    int64
			reason string
		}{
			{name: "detail edited", seq: 3, reason: "MAC mismatch",
				tamper: []string{`UPDATE audit_log SET detail = '{"role":"admin"}' WHERE seq = 3`}},
			{name: "actor edited", seq: 2, reason: "MAC mismatch",
				tamper: []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`}},
			{name: "last entry edited", seq: 5, reason: "MAC mismatch",
				tamper: []string{`UPDATE audit_log SET subject = 'token:other' WHERE seq = 5`}},
			{name: "two edited: the earlier", seq: 2, reason: "MAC mismatch",
				tamper: []string{`UPDATE audit_log SET sha = 'x' WHERE seq = 4`, `UPDATE audit_log SET action = 'x' WHERE seq = 2`}},
			{name: "entry deleted", seq: 3, reason: "missing",
				tamper: []string{`DELETE FROM audit_log WHERE seq = 3`}},
			{name: "first entry deleted", seq: 1, reason: "missing",
				tamper: []string{`DELETE FROM audit_log WHERE seq = 1`}},
			{name: "prev hash edited", seq: 4, reason: "prev-hash mismatch",
				tamper: []string{`UPDATE audit_log SET prev_hash = 'x' WHERE seq = 4`}},
			// A plain hash is what someone without the key can compute.
			{name: "entry rewritten with a valid plain hash", seq: 3, reason: "not keyed", rehash: 3},
			{name: "entry rewritten with the key", seq: 4, reason: "prev-hash mismatch", rehash: 3, mac: true},
			{name: "hash edited", seq: 2, reason: "MAC mismatch",
				tamper: []string{`UPDATE audit_log SET hash = prev_hash WHERE seq = 2`}},
			{name: "detail unreadable", seq: 4, reason: "unreadable",
				tamper: []string{`UPDATE audit_log SET detail = 'not json' WHERE seq = 4`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				db := open(t)
				mustTokens(t, db, "t", 5)
				dropAuditGuards(t, db)
				for _, s := range tc.tamper {
					if _, err := db.SQL().ExecContext(ctx, s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				audit := store.NewAuditService(db)
				if tc.rehash > 0 {
					es, err := audit.FindAudit(ctx, patchgate.AuditFilter{AfterSeq: tc.rehash - 1, Limit: 1})
					if err != nil || len(es) != 1 {
						t.Fatalf("FindAudit: %v", err)
					}
					e := es[0]
					e.Detail = map[string]string{"role": "admin"}
					hash := e.ComputeHash()
					if tc.mac {
						hash = e.ComputeMAC(testAuditKey)
					}
					if _, err := db.SQL().ExecContext(ctx, `UPDATE audit_log SET detail = $1, hash = $2 WHERE seq = $3`,
						`{"role":"admin"}`, hash, e.Seq); err != nil {
						t.Fatal(err)
					}
				}
				n, err := audit.VerifyAudit(ctx)
				var b *patchgate.AuditBreak
				if !errors.As(err, &b) {
					t.Fatalf("VerifyAudit() = %d, %v; want an *AuditBreak", n, err)
				}
				if b.Seq != tc.seq || !strings.Contains(b.Reason, tc.reason) || n != tc.seq-1 {
					t.Errorf("VerifyAudit() = %d, break at %d (%s); want %d, break at %d (%s)",
						n, b.Seq, b.Reason, tc.seq-1, tc.seq, tc.reason)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("entry %d", tc.seq)) {
					t.Errorf("error %q does not name entry %d", err, tc.seq)
				}
			})
		}
	})

	t.Run("concurrent appends keep one chain", func(t *testing.T) {
		db := open(t)
		other := reopen(t, db) // a second process, as far as the database knows
		const writers, each = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			h := db
			if w%2 == 1 {
				h = other
			}
			tokens := store.NewTokenService(h)
			wg.Go(func() {
				for i := range each {
					name := fmt.Sprintf("w%d-%d", w, i)
					if err := tokens.CreateToken(as(fmt.Sprintf("writer%d", w)), &patchgate.Token{Name: name,
						Role: patchgate.RoleViewer, Hash: patchgate.HashToken(name)}); err != nil {
						errs <- fmt.Errorf("CreateToken(%s): %w", name, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		audit := store.NewAuditService(db)
		if n, err := audit.VerifyAudit(ctx); n != writers*each || err != nil {
			t.Errorf("VerifyAudit() = %d, %v; want %d, nil", n, err, writers*each)
		}
		es, err := audit.FindAudit(ctx, patchgate.AuditFilter{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		subjects := map[string]bool{}
		for _, e := range es {
			subjects[e.Subject] = true
		}
		if len(es) != writers*each || len(subjects) != writers*each {
			t.Errorf("%d entries on %d subjects, want %d of each", len(es), len(subjects), writers*each)
		}
	})

	t.Run("export writes JSON lines that round-trip", func(t *testing.T) {
		db := open(t)
		audit := store.NewAuditService(db)
		mustTokens(t, db, "t", 3)
		f := newLinkFixture(t, db)
		if err := store.NewLinkService(db).CreateManualLink(as("bob"), &patchgate.Link{TicketID: f.pay1.ID,
			ChangeID: f.change.ID, CommitSHA: sha("A"), Provenance: "línked \"by\"\nbob", CreatedBy: "bob"}); err != nil {
			t.Fatal(err)
		}
		want, err := audit.FindAudit(ctx, patchgate.AuditFilter{})
		if err != nil || len(want) != 7 { // 3 tokens, 2 tickets recorded, the change's author, the link
			t.Fatalf("FindAudit() = %d entries, %v; want 7", len(want), err)
		}
		var buf bytes.Buffer
		if err := audit.ExportAudit(ctx, &buf); err != nil {
			t.Fatalf("ExportAudit: %v", err)
		}
		var got []*patchgate.AuditEntry
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			e := &patchgate.AuditEntry{}
			if err := json.Unmarshal(sc.Bytes(), e); err != nil {
				t.Fatalf("line %d %q: %v", len(got)+1, sc.Text(), err)
			}
			if e.ComputeMAC(testAuditKey) != e.Hash {
				t.Errorf("line %d: exported entry does not hash to its MAC", len(got)+1)
			}
			got = append(got, e)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("exported\n%+v\nwant\n%+v", got, want)
		}
	})
}

// TestAuditEntryHash pins the hashed encoding: a change to it would make every
// stored chain fail verification. The want value was computed apart from Go,
// from the encoding ComputeHash documents.
func TestAuditEntryHash(t *testing.T) {
	base := patchgate.AuditEntry{Seq: 7, At: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), Actor: "alice",
		Action: patchgate.AuditVerdict, Subject: "verification:12", SHA: sha("A"),
		Detail:   map[string]string{"state": "success", "reason": "", "repo": "github:acme/payments"},
		PrevHash: strings.Repeat("ab", 32), Hash: "ignored"}
	const want = "7fb5e9046f243c60fd744021ad8177a86a5ce1516198b5bb91d9999086945104"
	if got := base.ComputeHash(); got != want {
		t.Fatalf("ComputeHash() = %s, want %s", got, want)
	}
	same := base
	same.At = base.At.In(time.FixedZone("CET", 3600)).Add(-789) // same microsecond, another zone
	same.Hash = ""
	if got := same.ComputeHash(); got != want {
		t.Errorf("ComputeHash() of the same entry in another zone = %s, want %s", got, want)
	}
	empty, nilDetail := base, base
	empty.Detail, nilDetail.Detail = map[string]string{}, nil
	if empty.ComputeHash() != nilDetail.ComputeHash() {
		t.Errorf("an empty and a nil Detail hash differently")
	}
	for _, tc := range []struct {
		name   string
		change func(e *patchgate.AuditEntry)
	}{
		{"seq", func(e *patchgate.AuditEntry) { e.Seq++ }},
		{"at", func(e *patchgate.AuditEntry) { e.At = e.At.Add(time.Microsecond) }},
		{"actor", func(e *patchgate.AuditEntry) { e.Actor = "bob" }},
		{"action", func(e *patchgate.AuditEntry) { e.Action = patchgate.AuditTicketState }},
		{"subject", func(e *patchgate.AuditEntry) { e.Subject = "verification:13" }},
		{"sha", func(e *patchgate.AuditEntry) { e.SHA = sha("B") }},
		{"detail value", func(e *patchgate.AuditEntry) {
			e.Detail = map[string]string{"state": "failure", "reason": "", "repo": "github:acme/payments"}
		}},
		{"detail key", func(e *patchgate.AuditEntry) {
			e.Detail = map[string]string{"state": "success", "reason2": "", "repo": "github:acme/payments"}
		}},
		{"detail moved between fields", func(e *patchgate.AuditEntry) {
			e.Detail = map[string]string{"state": "success", "reason": "github:acme/payments", "repo": ""}
		}},
		{"prev hash", func(e *patchgate.AuditEntry) { e.PrevHash = "" }},
		{"actor and action boundary", func(e *patchgate.AuditEntry) { e.Actor, e.Action = "aliceverdict", "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			tc.change(&e)
			if e.ComputeHash() == want {
				t.Errorf("changing the %s left the hash as it was", tc.name)
			}
		})
	}
}
