package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestEvidencePacks runs the evidence pack store on SQLite and, when
// PATCHGATE_TEST_POSTGRES_URL is set, on PostgreSQL.
func TestEvidencePacks(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testEvidencePacks(t, mustOpen(t, "sqlite://"+filepath.Join(t.TempDir(), "patchgate.db")))
	})
	t.Run("postgres", func(t *testing.T) { testEvidencePacks(t, postgresOpener(t)(t)) })
}

func testEvidencePacks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db.Now = newClock().Now
	db.AuditKey = testAuditKey
	releases := store.NewReleaseService(db)
	c := mustCreateCandidate(t, releases, newCandidate("acme/payments", "v1.6.0", "A"))
	packs := store.NewEvidencePackService(db)

	_, err := packs.FindEvidencePack(ctx, c.ID)
	wantCode(t, err, patchgate.ENOTFOUND)
	_, err = packs.SaveEvidencePack(ctx, &patchgate.EvidencePackRecord{CandidateID: c.ID + 100, Name: "x", SHA256: "a", KeyID: "k", Data: []byte("x")})
	wantCode(t, err, patchgate.ENOTFOUND)
	wantCode(t, packs.SetEvidenceAsset(ctx, c.ID, "https://forge/asset"), patchgate.ENOTFOUND)

	first := &patchgate.EvidencePackRecord{CandidateID: c.ID, Name: patchgate.EvidenceFileName("v1.6.0"), SHA256: "s1", KeyID: "k1", Data: []byte("{\"a\":1}\n\x00\xff")}
	got, err := packs.SaveEvidencePack(ctx, first)
	if err != nil || got.SHA256 != "s1" || got.CreatedAt.IsZero() {
		t.Fatalf("SaveEvidencePack = %+v, %v; want the pack stored", got, err)
	}
	// A retried promotion signs again: the first pack holds.
	got, err = packs.SaveEvidencePack(ctx, &patchgate.EvidencePackRecord{CandidateID: c.ID, Name: first.Name, SHA256: "s2", KeyID: "k1", Data: []byte("other")})
	if err != nil || got.SHA256 != "s1" || !bytes.Equal(got.Data, first.Data) {
		t.Fatalf("a second SaveEvidencePack = %+v, %v; want the first pack back", got, err)
	}
	if err := packs.SetEvidenceAsset(ctx, c.ID, "https://forge/asset"); err != nil {
		t.Fatal(err)
	}
	found, err := packs.FindEvidencePack(ctx, c.ID)
	if err != nil || !bytes.Equal(found.Data, first.Data) || found.AssetURL != "https://forge/asset" || found.Name != "release-v1.6.0.intoto.jsonl" {
		t.Fatalf("FindEvidencePack = %+v, %v; want the first pack with its asset URL", found, err)
	}
	// The pack is audited once, and the log still verifies with it.
	audit := store.NewAuditService(db)
	entries, err := audit.FindAudit(ctx, patchgate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	signed := 0
	for _, e := range entries {
		if e.Action == patchgate.AuditEvidenceSigned {
			signed++
			if e.Detail["sha256"] != "s1" || e.Detail["key_id"] != "k1" || e.SHA != c.SHA {
				t.Errorf("evidence.signed entry: got %+v, want sha256 s1, key k1 at %s", e, c.SHA)
			}
		}
	}
	if signed != 1 {
		t.Errorf("got %d evidence.signed entries, want 1", signed)
	}
	rep, err := audit.CheckAudit(ctx, patchgate.AuditCheck{})
	if err != nil || rep.Break != nil || len(rep.Unaudited) != 0 {
		t.Fatalf("CheckAudit = %+v, %v; want an intact log", rep, err)
	}
}
