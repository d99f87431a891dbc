package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestPromotionPublishesAnEvidencePackThatVerifiesOffline: a promotion
// through the API signs the release's pack; the API serves it and the fake
// forge's release carries it, byte for byte; `patchgate evidence key`
// prints the public key; and `patchgate evidence verify` accepts the pack
// with that key alone (no database, no forge), and refuses an edited one or
// another key with the reason.
func TestPromotionPublishesAnEvidencePackThatVerifiesOffline(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	aliceID := w.app.forge.AddUser("alice") // the forge knows her: the pack names her by id
	c := w.candidate(t)
	alice := w.token(t, "alice", patchgate.RoleReleaseManager, "github:alice")
	for _, step := range []string{"approve", "promote"} {
		if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/%s", c.ID, step), nil); code != http.StatusOK {
			t.Fatalf("%s: got %d %s", step, code, msg)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/releases/%d/evidence", w.app.url, c.ID), nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pack, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != patchgate.EvidenceMediaType {
		t.Fatalf("GET evidence: got %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), pack)
	}
	assets := w.app.forge.ReleaseAssets(testRepo, c.Name)
	if len(assets) != 1 || assets[0].Name != patchgate.EvidenceFileName(c.Name) || !bytes.Equal(assets[0].Data, pack) {
		t.Fatalf("release assets: got %+v, want %s with the pack the API serves", assets, patchgate.EvidenceFileName(c.Name))
	}

	dir := t.TempDir()
	pub := filepath.Join(dir, "patchgate.pub")
	if err := os.WriteFile(pub, []byte(runCLI(t, "evidence", "key", "--database", w.app.main.Config.Database)), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, patchgate.EvidenceFileName(c.Name))
	if err := os.WriteFile(file, pack, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runCLI(t, "evidence", "verify", file, "--key", pub, "--tag", c.Name, "--sha", w.merge[:12])
	t.Logf("patchgate evidence verify:\n%s", out)
	for _, want := range []string{"evidence pack " + filepath.Base(file) + ": VALID", "release " + c.Name + " of github:" + testRepo + " at " + w.merge,
		"ticket PAY-7 fixed in #7", fmt.Sprintf("approved by alice (forge id %d) via api, token alice", aliceID), "written by codertocat (#7)",
		"suite regression PASSED", "audit chain head at promotion"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify: got\n%s\nwant a line with %q", out, want)
		}
	}
	var report struct {
		Valid     bool
		Approvers []struct{ Login, Token string }
	}
	if err := json.Unmarshal([]byte(runCLI(t, "evidence", "verify", file, "--key", pub, "--json")), &report); err != nil ||
		!report.Valid || len(report.Approvers) != 1 || report.Approvers[0].Login != "alice" || report.Approvers[0].Token != "alice" {
		t.Errorf("verify --json: got %+v (%v), want valid, approved by alice through her token", report, err)
	}

	// An edited byte, another tag, another key: refused, saying why.
	edited := bytes.Replace(pack, []byte(`"signatures":[{"keyid":"`), []byte(`"signatures":[{"keyid":"0`), 1)
	if err := os.WriteFile(file, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runCLIErr(t, "evidence", "verify", file, "--key", pub); !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("an edited pack: got %v", err)
	}
	if err := os.WriteFile(file, pack, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runCLIErr(t, "evidence", "verify", file, "--key", pub, "--tag", "v9.9.9"); err == nil {
		t.Error("another tag: got nil")
	}
	other := filepath.Join(dir, "other.pub")
	if err := os.WriteFile(other, []byte(runCLI(t, "evidence", "key", "--database", "sqlite://"+filepath.Join(dir, "other.db"))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runCLIErr(t, "evidence", "verify", file, "--key", other); !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("another key: got %v", err)
	}
	// A rotated key: the old pack verifies when both are given.
	runCLI(t, "evidence", "verify", file, "--key", other, "--key", pub)
}

// TestEvidenceKeyFileMustBePrivate: a key file others may read is refused,
// by the CLI and at start-up, with the chmod that fixes it.
func TestEvidenceKeyFileMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "patchgate.db")
	runCLI(t, "evidence", "key", "--database", db) // creates it
	path := filepath.Join(dir, "patchgate.db.evidence-key")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: got %v (%v), want mode 0600", fi, err)
	}
	cfg := DefaultConfig()
	cfg.Database, cfg.Evidence.KeyFile = db, path
	first, err := loadEvidenceKey(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := loadEvidenceKey(cfg, true); err != nil || again.ID() != first.ID() {
		t.Fatalf("loading the key file again: got %v (%v), want the same key %s, not a new one", again, err, first.ID())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	err = runCLIErr(t, "evidence", "key", "--database", db)
	if !strings.Contains(err.Error(), "has permissions 0644, so others may read it: run chmod 600 "+path) {
		t.Errorf("evidence key with a world-readable file: got %v", err)
	}
	if _, err := loadEvidenceKey(cfg, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("start-up with a world-readable key: got %v, want refused", err)
	}
}
