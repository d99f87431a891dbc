package patchgate

import (
	"fmt"
	"testing"
)

func TestCompareAuditRecord(t *testing.T) {
	rec := func(seq int64, kv ...string) *AuditRecord {
		r := &AuditRecord{Seq: seq, Fields: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Fields[kv[i]] = kv[i+1]
		}
		return r
	}
	fields := []string{"hash", "role", "users"}
	tests := []struct {
		name     string
		row      *AuditRecord
		entry    *AuditRecord
		predates bool
		want     string // "" for a match
	}{
		{name: "neither", want: ""},
		{name: "match", row: rec(0, "hash", "h", "role", "admin"), entry: rec(4, "hash", "h", "role", "admin"), want: ""},
		{name: "row without entry", row: rec(0, "hash", "h", "role", "admin"),
			want: `tokens 7: hash=h role=admin users= has no audit entry`},
		{name: "row without entry before the baseline", row: rec(0, "hash", "h"), predates: true, want: ""},
		{name: "entry without row", entry: rec(9, "hash", "h", "role", "admin"),
			want: `tokens 7: audit entry 9 records hash=h role=admin users=, but the row does not exist`},
		{name: "first differing field", row: rec(0, "hash", "x", "role", "admin"), entry: rec(4, "hash", "h", "role", "viewer"),
			want: `tokens 7: hash recorded "x", audited "h" (entry 4)`},
		{name: "field the entry lacks is empty", row: rec(0, "hash", "h", "role", "admin", "users", "github:eve"),
			entry: rec(4, "hash", "h", "role", "admin"), want: `tokens 7: users recorded "github:eve", audited "" (entry 4)`},
		{name: "field an old entry lacks is skipped", row: rec(0, "hash", "h", "role", "admin"), entry: rec(4, "role", "admin"),
			predates: true, want: ""},
		{name: "an old entry still must match what it has", row: rec(0, "hash", "h", "role", "admin"), entry: rec(4, "role", "viewer"),
			predates: true, want: `tokens 7: role recorded "admin", audited "viewer" (entry 4)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := CompareAuditRecord("tokens", "7", fields, tc.row, tc.entry, tc.predates)
			got := ""
			if m != nil {
				got = m.String()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAuditItemsAndFingerprint(t *testing.T) {
	tests := []struct {
		name  string
		items []*CandidateItem
		want  string
	}{
		{name: "none", want: ""},
		{name: "in order, ticket 0 for none", items: []*CandidateItem{{ChangeID: 3, TicketID: 9}, {ChangeID: 1}}, want: "3/9,1/0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := AuditItems(tc.items); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if a, b := AuditFingerprint("aa"), AuditFingerprint("ab"); a == b || len(a) != 32 || a == "aa" {
		t.Errorf("got fingerprints %q and %q, want two different 32-digit hashes", a, b)
	}
}

func TestAuditRunRecords(t *testing.T) {
	tests := []struct {
		name string
		got  map[string]string
		want map[string]string
	}{
		{name: "verification",
			got: AuditVerificationRecord(&Verification{State: RunSuccess, SHA: "abc", Forge: GitHub, Repo: "acme/pay",
				ConfigDigest: "d1", RequireProof: true}),
			want: map[string]string{"state": "success", "sha": "abc", "repo": "github:acme/pay", "config_digest": "d1", "require_proof": "true"}},
		{name: "suite run",
			got:  AuditSuiteRunRecord(&SuiteRun{State: RunFailure, VerificationID: 4, Name: "unit", Required: true}),
			want: map[string]string{"state": "failure", "verification": "4", "suite": "unit", "required": "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if fmt.Sprint(tc.got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}
