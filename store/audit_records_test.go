package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// recordsFixture is a keyed log's database holding one of each record audit
// verify cross-checks, each written through its service.
type recordsFixture struct {
	db           *store.DB
	token        *patchgate.Token
	change       int64
	candidate    *patchgate.Candidate
	verification *patchgate.Verification
	unit, lint   int64 // suite runs: unit finished (failure), lint still queued
}

func newRecordsFixture(t *testing.T, db *store.DB) *recordsFixture {
	t.Helper()
	ctx := context.Background()
	if _, err := store.NewAuditService(db).SealAudit(ctx); err != nil {
		t.Fatal(err)
	}
	f := &recordsFixture{db: db, token: &patchgate.Token{Name: "ci", Role: patchgate.RoleReleaseManager,
		Hash: patchgate.HashToken("s1"), Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice", UserID: 11}}}}
	tokens := store.NewTokenService(db)
	if err := tokens.CreateToken(ctx, f.token); err != nil {
		t.Fatal(err)
	}
	if err := tokens.CreateToken(ctx, &patchgate.Token{Name: "old", Role: patchgate.RoleAdmin, Hash: patchgate.HashToken("s0")}); err != nil {
		t.Fatal(err)
	}
	if err := tokens.RevokeToken(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	f.change = mustChange(t, db, 1)
	ticket, err := store.NewTicketService(db).EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"})
	if err != nil {
		t.Fatal(err)
	}
	f.candidate = mustCreateCandidate(t, store.NewReleaseService(db), newCandidate("acme/payments", "v1.0.1", "A",
		&patchgate.CandidateItem{ChangeID: f.change, TicketID: ticket.ID}))
	vs := store.NewVerificationService(db)
	if f.verification, _, err = vs.CreateVerification(ctx, newVerification(f.change, sha("A"), "d1")); err != nil {
		t.Fatal(err)
	}
	for _, sr := range f.verification.Suites {
		if sr.Name == "lint" {
			f.lint = sr.ID
			continue
		}
		f.unit = sr.ID
		sr.State = patchgate.RunFailure
		if err := vs.UpdateSuiteRun(ctx, sr); err != nil {
			t.Fatal(err)
		}
	}
	if err := vs.FinishVerification(ctx, f.verification.ID, patchgate.RunFailure, "unit failed"); err != nil {
		t.Fatal(err)
	}
	if err := store.NewSessionService(db).CreateSession(ctx, &patchgate.Session{ID: "s-1", TokenID: f.token.ID,
		Hash: patchgate.HashToken("cookie"), CSRF: "c", ExpiresAt: db.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// testAuditRecords tampers with each record audit verify cross-checks as a
// database writer would (plain SQL) and wants CheckAudit to name it first.
func testAuditRecords(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	check := func(t *testing.T, db *store.DB) *patchgate.AuditReport {
		t.Helper()
		rep, err := store.NewAuditService(db).CheckAudit(ctx, patchgate.AuditCheck{})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	t.Run("untouched records match", func(t *testing.T) {
		f := newRecordsFixture(t, open(t))
		if rep := check(t, f.db); !rep.OK() || rep.RecordsFrom != 1 {
			t.Errorf("CheckAudit() = %+v; want OK, records checked from entry 1", rep)
		}
	})
	evil := patchgate.HashToken("evil")
	const at = `'2026-01-02T03:04:05.000000Z'`
	for _, tc := range []struct {
		name string
		sql  func(f *recordsFixture) string
		want func(f *recordsFixture) string
	}{
		{name: "an inserted token",
			sql: func(*recordsFixture) string {
				return `INSERT INTO tokens (name, role, users, hash, created_at) VALUES ('mallory', 'admin', 'github:mallory', '` + evil + `', ` + at + `)`
			},
			want: func(*recordsFixture) string {
				return "tokens mallory: hash=" + patchgate.AuditFingerprint(evil) + " role=admin users=github:mallory revoked= projects= has no audit entry"
			}},
		{name: "a token's secret replaced",
			sql: func(*recordsFixture) string { return `UPDATE tokens SET hash = '` + evil + `' WHERE name = 'ci'` },
			want: func(f *recordsFixture) string {
				return fmt.Sprintf("tokens ci: hash recorded %q, audited %q", patchgate.AuditFingerprint(evil), patchgate.AuditFingerprint(f.token.Hash))
			}},
		{name: "a token's person changed",
			sql: func(*recordsFixture) string { return `UPDATE tokens SET users = 'github:bob' WHERE name = 'ci'` },
			want: func(*recordsFixture) string {
				return `tokens ci: users recorded "github:bob", audited "github:alice#11"`
			}},
		{name: "a token's pinned user id changed",
			sql: func(*recordsFixture) string { return `UPDATE tokens SET users = 'github:alice#99' WHERE name = 'ci'` },
			want: func(*recordsFixture) string {
				return `tokens ci: users recorded "github:alice#99", audited "github:alice#11"`
			}},
		{name: "a verdict set to success",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE verifications SET state = 'success' WHERE id = %d`, f.verification.ID)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`verifications %d: state recorded "success", audited "failure"`, f.verification.ID)
			}},
		{name: "a failed verification deleted",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`DELETE FROM verifications WHERE id = %d`, f.verification.ID)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`verifications %d: audit entry`, f.verification.ID)
			}},
		{name: "a failed suite run set to success",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE suite_runs SET state = 'success' WHERE id = %d`, f.unit)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`suite_runs %d: state recorded "success", audited "failure"`, f.unit)
			}},
		{name: "a queued suite run set to success",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE suite_runs SET state = 'success' WHERE id = %d`, f.lint)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`suite_runs %d: state=success verification=`, f.lint)
			}},
		{name: "a failed required suite run made optional",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE suite_runs SET required = FALSE WHERE id = %d`, f.unit)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`suite_runs %d: required recorded "false", audited "true"`, f.unit)
			}},
		{name: "a verdict moved to another commit",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE verifications SET sha = '%s' WHERE id = %d`, sha("B"), f.verification.ID)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`verifications %d: sha recorded %q, audited %q`, f.verification.ID, sha("B"), sha("A"))
			}},
		{name: "a verdict moved to another configuration",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE verifications SET config_digest = 'other' WHERE id = %d`, f.verification.ID)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`verifications %d: config_digest recorded "other", audited "d1"`, f.verification.ID)
			}},
		{name: "a revoked token revived",
			sql:  func(*recordsFixture) string { return `UPDATE tokens SET revoked_at = NULL WHERE name = 'old'` },
			want: func(*recordsFixture) string { return `tokens old: revoked recorded "", audited "true"` }},
		{name: "a candidate's item deleted",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`DELETE FROM candidate_items WHERE candidate_id = %d`, f.candidate.ID)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`candidates %d: items recorded "", audited "%d/`, f.candidate.ID, f.change)
			}},
		{name: "a candidate inserted",
			sql: func(*recordsFixture) string {
				return `INSERT INTO candidates (forge, repo, sha, name, state, created_at) VALUES ('github', 'acme/payments', '` +
					sha("B") + `', 'v9', 'open', ` + at + `)`
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`candidates %d: sha=%s items= has no audit entry`, f.candidate.ID+1, sha("B"))
			}},
		{name: "a change's author id set",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE changes SET author_id = 99 WHERE id = %d`, f.change)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`changes %d: author_id recorded "99", audited ""`, f.change)
			}},
		{name: "a change's author changed",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`UPDATE changes SET author = 'mallory' WHERE id = %d`, f.change)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf(`changes %d: author recorded "mallory", audited "dev"`, f.change)
			}},
		{name: "a session inserted",
			sql: func(f *recordsFixture) string {
				return fmt.Sprintf(`INSERT INTO sessions (id, token_id, hash, csrf, created_at, last_seen_at, expires_at)
					VALUES ('s-evil', %d, '%s', 'c', %s, %s, '2099-01-01T00:00:00.000000Z')`, f.token.ID, evil, at, at)
			},
			want: func(f *recordsFixture) string {
				return fmt.Sprintf("sessions %s: token=%d hash=%s", patchgate.AuditFingerprint("s-evil"), f.token.ID, patchgate.AuditFingerprint(evil))
			}},
		{name: "a session extended",
			sql: func(*recordsFixture) string {
				return `UPDATE sessions SET expires_at = '2099-01-01T00:00:00.000000Z' WHERE id = 's-1'`
			},
			want: func(*recordsFixture) string {
				return "sessions " + patchgate.AuditFingerprint("s-1") + `: expires recorded "2099-01-01T00:00:00Z"`
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRecordsFixture(t, open(t))
			if _, err := f.db.SQL().ExecContext(ctx, tc.sql(f)); err != nil {
				t.Fatal(err)
			}
			rep := check(t, f.db)
			if rep.Break != nil || len(rep.Unaudited) == 0 || !strings.HasPrefix(rep.Unaudited[0], tc.want(f)) {
				t.Errorf("CheckAudit() = break %v, unaudited %q; want the chain intact and first %q", rep.Break, rep.Unaudited, tc.want(f))
			}
		})
	}

	t.Run("rows before the baseline may lack entries, not differ from them", func(t *testing.T) {
		db := open(t)
		audit := store.NewAuditService(db)
		// Written as a version that audited neither: a change's author and a
		// verdict, past the services, on a log keyed before baselines.
		mustTokens(t, db, "t", 1)
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO changes (forge, repo, key, kind, number, state, author, created_at, updated_at)
			VALUES ('github', 'acme/payments', 'pr/1', 'pull_request', 1, 'open', 'old', `+at+`, `+at+`)`); err != nil {
			t.Fatal(err)
		}
		id := int64(1)
		vs := store.NewVerificationService(db)
		v, _, err := vs.CreateVerification(ctx, newVerification(id, sha("A"), "d1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(`UPDATE verifications SET state = 'failure' WHERE id = %d`, v.ID)); err != nil {
			t.Fatal(err)
		}
		if added, err := audit.Baseline(ctx); err != nil || !added {
			t.Fatalf("Baseline() of a keyed log without one = %v, %v; want true, nil", added, err)
		}
		if added, err := audit.Baseline(ctx); err != nil || added {
			t.Errorf("Baseline() again = %v, %v; want false, nil", added, err)
		}
		if rep := check(t, db); !rep.OK() || rep.RecordsFrom == 0 {
			t.Fatalf("CheckAudit() of rows before the baseline = %+v; want OK", rep)
		}
		// The baseline vouches for the tokens' secrets; rows after it need entries.
		if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(`UPDATE tokens SET hash = '%s' WHERE name = 't0'`, evil)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(`INSERT INTO changes (forge, repo, key, kind, number, state, author, created_at, updated_at)
			VALUES ('github', 'acme/payments', 'pr/77', 'pull_request', 77, 'open', 'eve', %s, %s)`, at, at)); err != nil {
			t.Fatal(err)
		}
		rep := check(t, db)
		if len(rep.Unaudited) != 2 || !strings.HasPrefix(rep.Unaudited[0], "tokens t0: hash recorded") ||
			!strings.HasPrefix(rep.Unaudited[1], fmt.Sprintf("changes %d: author=eve author_id= has no audit entry", id+1)) {
			t.Errorf("CheckAudit() after edits past the baseline = %q; want the token's hash and the new change named", rep.Unaudited)
		}
		// A row slipped in below the baseline's highest id (into a gap) and a
		// token of an old id: the count and the token list name them.
		overriding := ""
		if db.Dialect() == store.DialectPostgres {
			overriding = "OVERRIDING SYSTEM VALUE"
		}
		for _, q := range []string{
			`INSERT INTO changes (id, forge, repo, key, kind, number, state, author, created_at, updated_at) ` + overriding + `
				VALUES (0, 'github', 'acme/payments', 'pr/78', 'pull_request', 78, 'open', 'eve', ` + at + `, ` + at + `)`,
			`INSERT INTO tokens (id, name, role, users, hash, created_at) ` + overriding + `
				VALUES (0, 'gap', 'admin', '', '` + patchgate.HashToken("gap") + `', ` + at + `)`,
		} {
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		rep = check(t, db)
		want := []string{"tokens gap: hash=", "tokens t0: hash recorded", `changes 1..1: rows recorded "2", audited "1"`}
		for i, w := range want {
			if len(rep.Unaudited) <= i || !strings.HasPrefix(rep.Unaudited[i], w) {
				t.Errorf("CheckAudit() after rows slipped in below the baseline = %q; want %q at %d", rep.Unaudited, w, i)
			}
		}
	})
}
