package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
)

// TestAPIError: the API's errors keep their code and message; a refused
// token says where the CLI took it from; anything else is quoted, short.
func TestAPIError(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		body     string
		wantCode string
		want     string
	}{
		{"api error", http.StatusNotFound, `{"error":{"code":"not_found","message":"no ticket PAY-9"}}`, patchgate.ENOTFOUND, "not_found: no ticket PAY-9"},
		{"refused token", http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"invalid token"}}`, patchgate.EUNAUTHORIZED, "unauthorized: invalid token: check the token (--token or PATCHGATE_TOKEN"},
		{"refused by a proxy", http.StatusUnauthorized, `<html>no</html>`, patchgate.EUNAUTHORIZED, "401 Unauthorized: check the token (--token or PATCHGATE_TOKEN)"},
		{"a proxy's page", http.StatusBadGateway, "<html>" + strings.Repeat("x", 300) + "</html>", patchgate.EINTERNAL, `GET /api/v1/tickets: 502 Bad Gateway: "<html>xxx`},
		{"no body", http.StatusBadGateway, "", patchgate.EINTERNAL, "GET /api/v1/tickets: 502 Bad Gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status := fmt.Sprintf("%d %s", tc.code, http.StatusText(tc.code)) // as resp.Status reads
			err := apiError("GET /api/v1/tickets", tc.code, status, []byte(tc.body))
			if patchgate.ErrorCode(err) != tc.wantCode || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v (code %s), want code %s and %q", err, patchgate.ErrorCode(err), tc.wantCode, tc.want)
			}
			if len(err.Error()) > 300 {
				t.Errorf("got %d characters, want a short error", len(err.Error()))
			}
		})
	}
}

// TestDatabaseReadersPrintJSON: token list and audit head, which read the
// server's database, print a table or line for people and JSON with --json.
func TestDatabaseReadersPrintJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.db")
	db, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// token create pins --user's login to the forge's user id: the forge
	// must know alice.
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	forge.AddUser("alice")
	cfg := writeConfig(t, "database: sqlite://"+path+"\ngithub:\n  api_url: "+forge.GitHubAPIURL()+"\n  token: forge-token\n")
	cli := func(args ...string) string {
		t.Helper()
		out, err := execCLI(append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	if out := cli("token", "list"); !strings.HasPrefix(out, "no tokens yet") {
		t.Errorf("token list with none: got %q", out)
	}
	cli("token", "create", "--name", "alice", "--role", "viewer", "--user", "github:alice")
	if out := cli("token", "list"); !regexp.MustCompile(fmt.Sprintf(`(?m)^NAME +ROLE +USERS +CREATED +REVOKED\nalice +viewer +github:alice#%d `, forge.AddUser("alice"))).MatchString(out) {
		t.Errorf("token list: got %q", out)
	}
	var tokens struct{ Tokens []patchgate.Token }
	if out := cli("token", "list", "--json"); json.Unmarshal([]byte(out), &tokens) != nil || len(tokens.Tokens) != 1 ||
		tokens.Tokens[0].Name != "alice" || strings.Contains(out, "hash") {
		t.Errorf("token list --json: got %q; want alice, without any hash", out)
	}
	cli("token", "create", "--name", "desk", "--role", "tracker", "--projects", "PAY,OPS")
	if out := cli("token", "list", "--json"); json.Unmarshal([]byte(out), &tokens) != nil || len(tokens.Tokens) != 2 ||
		strings.Join(tokens.Tokens[1].Projects, ",") != "PAY,OPS" {
		t.Errorf("token create --projects PAY,OPS: token list --json got %q; want desk with projects PAY, OPS", out)
	}
	line := strings.TrimSpace(cli("audit", "head"))
	var head struct {
		Seq  int64
		Hash string
		Head string
	}
	if out := cli("audit", "head", "--json"); json.Unmarshal([]byte(out), &head) != nil || head.Head != line || head.Seq == 0 || !strings.HasSuffix(line, ":"+head.Hash) {
		t.Errorf("audit head --json: got %q; want seq, hash and head %q", out, line)
	}
}
