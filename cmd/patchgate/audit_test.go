package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// auditConfig writes a configuration file for CLI commands on the database at
// dbPath, with extra YAML appended, and returns its path.
func auditConfig(t *testing.T, dbPath, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patchgate.yaml")
	if err := os.WriteFile(path, []byte("database: sqlite://"+dbPath+"\n"+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// execSQL runs statements on the database at dbPath as someone with write
// access to it would, past patchgate.
func execSQL(t *testing.T, dbPath string, stmts ...string) {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestAuditKeyAndVerify runs a server, then checks its audit log with the CLI
// and the API as an operator would: the key file patchgate created, the head,
// verify with and without an anchor, and what a database writer's edits, a
// wrong key and a loose key file look like.
func TestAuditKeyAndVerify(t *testing.T) {
	app := startApp(t, nil)
	app.createToken(t, "ci", patchgate.RoleDeveloper)
	dbPath := strings.TrimPrefix(app.main.Config.Database, "sqlite://")
	keyFile := dbPath + ".audit-key"
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, %v; want it created with 0600", keyFile, fi, err)
	}
	cfg := auditConfig(t, dbPath, "")

	head := strings.TrimSpace(runCLI(t, "--config", cfg, "audit", "head"))
	if !strings.HasPrefix(head, "4:") { // audit.keyed, config.changed, test-admin, ci
		t.Fatalf("audit head = %q, want entry 4", head)
	}
	out := runCLI(t, "--config", cfg, "audit", "verify", "--head", head)
	if want := "audit log intact: 4 entries, keyed from entry 1; head " + head; !strings.Contains(out, want) {
		t.Fatalf("audit verify = %q, want %q", out, want)
	}
	var api struct {
		OK        bool
		Checked   int64
		Head      patchgate.AuditHead
		Unaudited []string
		Reason    string
	}
	if code := app.api(t, http.MethodGet, "/api/v1/audit/verify?head="+head, nil, &api); code != 200 || !api.OK || api.Head.String() != head {
		t.Fatalf("GET /audit/verify = %d %+v; want 200, OK at %s", code, api, head)
	}
	var h struct{ Head string }
	if code := app.api(t, http.MethodGet, "/api/v1/audit/head", nil, &h); code != 200 || h.Head != head {
		t.Fatalf("GET /audit/head = %d %+v; want %s", code, h, head)
	}

	app.createToken(t, "ops", patchgate.RoleViewer) // entry 5
	// A ticket state written past the services, and the log cut back to the anchor.
	execSQL(t, dbPath,
		`INSERT INTO tickets (tracker, key, severity, state, created_at, updated_at, opened_at)
			VALUES ('external', 'HW-9', 'high', 'released', '2026-01-02T03:04:05.000000Z', '2026-01-02T03:04:05.000000Z', '2026-01-02T03:04:05.000000Z')`,
		`DROP TRIGGER audit_log_no_delete`, `DELETE FROM audit_log WHERE seq > 2`)
	err = runCLIErr(t, "--config", cfg, "audit", "verify", "--head", head)
	for _, want := range []string{"broken at entry 3 (truncated: the anchored head is entry 4, but the log ends at entry 2)",
		"4 record(s) without their audit entry"} { // the ticket, and the three tokens whose entries were cut off
		if !strings.Contains(err.Error(), want) {
			t.Errorf("audit verify after tampering: %v; want it to say %q", err, want)
		}
	}
	out, _ = execCLI("--config", cfg, "audit", "verify")
	if !strings.Contains(out, "unaudited: ticket HW-9 is released but has no ticket.state entry") {
		t.Errorf("audit verify printed %q; want the unaudited ticket named", out)
	}
	api.OK = true
	if code := app.api(t, http.MethodGet, "/api/v1/audit/verify?head="+head, nil, &api); code != http.StatusConflict || api.OK ||
		!strings.Contains(api.Reason, "truncated") || len(api.Unaudited) != 4 {
		t.Errorf("GET /audit/verify after tampering = %d %+v; want 409 naming the truncation, the ticket and the tokens", code, api)
	}
	if code := app.api(t, http.MethodGet, "/api/v1/audit/verify?head=3:nothex", nil, nil); code != http.StatusBadRequest {
		t.Errorf("GET /audit/verify with a malformed head = %d, want 400", code)
	}

	// Another key: verify names the first entry; writers refuse to start.
	other := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(other, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherCfg := auditConfig(t, dbPath, "audit: {key_file: "+other+"}\n")
	if err := runCLIErr(t, "--config", otherCfg, "audit", "verify"); !strings.Contains(err.Error(), "broken at entry 1 (MAC mismatch") {
		t.Errorf("audit verify with another key: %v; want a MAC mismatch at entry 1", err)
	}
	if err := runCLIErr(t, "--config", otherCfg, "token", "create", "--name", "x"); !strings.Contains(err.Error(), "audit key file "+other) ||
		!strings.Contains(err.Error(), "does not match") {
		t.Errorf("token create with another key: %v; want a refusal naming the key file", err)
	}
	// No key file at all, on a keyed log: not a new key, a refusal.
	missingCfg := auditConfig(t, dbPath, "audit: {key_file: "+filepath.Join(t.TempDir(), "missing.key")+"}\n")
	if err := runCLIErr(t, "--config", missingCfg, "token", "create", "--name", "x"); !strings.Contains(err.Error(), "restore the file") {
		t.Errorf("token create without the key file: %v; want it to say restore the file", err)
	}
	// A key file others can read.
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runCLIErr(t, "--config", cfg, "audit", "verify"); !strings.Contains(err.Error(), "chmod 600 "+keyFile) {
		t.Errorf("audit verify with a 0644 key file: %v; want it to say chmod 600", err)
	}
	c := app.main.Config
	c.Listen = "127.0.0.1:0"
	if err := NewMain(c, app.main.Logger).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "permissions 0644") {
		t.Errorf("serve with a 0644 key file: %v; want it to refuse", err)
	}
}

// TestAuditUpgradeKeysThePlainLog plays an upgrade: a log with plain hashes (as
// patchgate wrote before audit keys) and the schema before 0008; `patchgate
// migrate` applies 0008 and keys the log, after which it verifies and appends
// keyed entries.
func TestAuditUpgradeKeysThePlainLog(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "patchgate.db")
	cfg := auditConfig(t, dbPath, "")
	db, err := store.Open(ctx, "sqlite://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} { // no key: plain hashes
		if err := store.NewTokenService(db).CreateToken(ctx, &patchgate.Token{Name: name, Role: patchgate.RoleViewer,
			Hash: patchgate.HashToken(name)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	execSQL(t, dbPath, `DROP TRIGGER audit_log_append_next`, `DELETE FROM schema_migrations WHERE version = 8`)

	if err := runCLIErr(t, "--config", cfg, "token", "list"); !strings.Contains(err.Error(), "patchgate migrate") {
		t.Fatalf("token list on the old schema: %v; want it to say run patchgate migrate", err)
	}
	if out := runCLI(t, "--config", cfg, "migrate"); !strings.Contains(out, "applied 1 migration") {
		t.Fatalf("migrate = %q", out)
	}
	out := runCLI(t, "--config", cfg, "audit", "verify")
	if !strings.Contains(out, "audit log intact: 3 entries, keyed from entry 3") {
		t.Fatalf("audit verify after the upgrade = %q; want 2 plain entries and the keyed one", out)
	}
	runCLI(t, "--config", cfg, "token", "create", "--name", "c")
	if out := runCLI(t, "--config", cfg, "audit", "verify"); !strings.Contains(out, "audit log intact: 4 entries, keyed from entry 3") {
		t.Fatalf("audit verify after a keyed append = %q", out)
	}
	if out := runCLI(t, "--config", cfg, "audit", "seal"); !strings.Contains(out, "head 4:") {
		t.Errorf("a second seal = %q; want nothing appended", out)
	}
}

// TestDefaultAuditKeyFile pins where the key lives when audit.key_file is unset.
func TestDefaultAuditKeyFile(t *testing.T) {
	for _, tc := range []struct {
		name, database, dir, want string
	}{
		{name: "sqlite relative", database: "sqlite://patchgate.db", dir: "/etc/patchgate", want: "patchgate.db.audit-key"},
		{name: "sqlite absolute with query", database: "sqlite:///var/lib/pg/p.db?synchronous=full", dir: ".", want: "/var/lib/pg/p.db.audit-key"},
		{name: "sqlite in memory", database: "sqlite::memory:", dir: ".", want: ""},
		{name: "postgres beside the config", database: "postgres://u@h/db", dir: "/etc/patchgate", want: "/etc/patchgate/patchgate.audit-key"},
		{name: "postgres without a config", database: "postgresql://u@h/db", dir: ".", want: "patchgate.audit-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultAuditKeyFile(tc.database, tc.dir); got != tc.want {
				t.Errorf("defaultAuditKeyFile(%q, %q) = %q, want %q", tc.database, tc.dir, got, tc.want)
			}
		})
	}
	cfgPath := filepath.Join(t.TempDir(), "patchgate.yaml")
	if err := os.WriteFile(cfgPath, []byte("database: postgres://u@h/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(cfgPath, func(string) (string, bool) { return "", false })
	if want := filepath.Join(filepath.Dir(cfgPath), "patchgate.audit-key"); err != nil || cfg.Audit.KeyFile != want {
		t.Errorf("LoadConfig: key_file %q, %v; want %q", cfg.Audit.KeyFile, err, want)
	}
	env := map[string]string{"PATCHGATE_AUDIT_KEY_FILE": "/run/secrets/audit.key"}
	cfg, err = LoadConfig(cfgPath, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || cfg.Audit.KeyFile != "/run/secrets/audit.key" {
		t.Errorf("LoadConfig with PATCHGATE_AUDIT_KEY_FILE: key_file %q, %v", cfg.Audit.KeyFile, err)
	}
}
