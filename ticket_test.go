package patchgate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
)

func TestSeverityFromLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		want   patchgate.Severity
	}{
		{"none", nil, patchgate.SeverityUnknown},
		{"severity prefix", []string{"bug", "severity:critical"}, patchgate.SeverityCritical},
		{"gitlab scoped", []string{"severity::high"}, patchgate.SeverityHigh},
		{"priority P1", []string{"priority:P1"}, patchgate.SeverityHigh},
		{"bare P0", []string{"P0"}, patchgate.SeverityCritical},
		{"most severe wins", []string{"severity:low", "priority:P1"}, patchgate.SeverityHigh},
		{"unrelated", []string{"bug", "help wanted"}, patchgate.SeverityUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patchgate.SeverityFromLabels(tt.labels); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValidExternalKey(t *testing.T) {
	for key, want := range map[string]bool{
		"PAY-123": true, "OPS2-1": true, "A_B-9": true,
		"pay-123": false, "PAY-0": false, "PAY-0123": false, "PAY-": false, "-1": false,
		"PAY123": false, "1PAY-3": false, "PAY-12a": false, "PAY-1234567890": false,
	} {
		if got := patchgate.ValidExternalKey(key); got != want {
			t.Errorf("ValidExternalKey(%q): got %v, want %v", key, got, want)
		}
	}
}

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		have, want patchgate.Role
		ok         bool
	}{
		{patchgate.RoleViewer, patchgate.RoleViewer, true},
		{patchgate.RoleViewer, patchgate.RoleDeveloper, false},
		{patchgate.RoleDeveloper, patchgate.RoleViewer, true},
		{patchgate.RoleReleaseManager, patchgate.RoleDeveloper, true},
		{patchgate.RoleReleaseManager, patchgate.RoleAdmin, false},
		{patchgate.RoleAdmin, patchgate.RoleReleaseManager, true},
		{"root", patchgate.RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.want); got != tt.ok {
			t.Errorf("%s allows %s: got %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
}

func TestTokenSecret(t *testing.T) {
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if patchgate.HashToken(secret) != hash || len(hash) != 64 {
		t.Fatalf("got hash %s, want the SHA-256 of the secret", hash)
	}
	other, _, _ := patchgate.NewTokenSecret()
	if other == secret {
		t.Fatal("two secrets are equal")
	}
}

func TestErrorCode(t *testing.T) {
	err := patchgate.Errorf(patchgate.ENOTFOUND, "ticket %s", "PAY-1")
	wrapped := fmtWrap(err)
	if got := patchgate.ErrorCode(wrapped); got != patchgate.ENOTFOUND {
		t.Fatalf("got %s, want not_found", got)
	}
	if got := patchgate.ErrorMessage(wrapped); got != "ticket PAY-1" {
		t.Fatalf("got %q, want the message", got)
	}
	plain := errPlain("disk on fire")
	if patchgate.ErrorCode(plain) != patchgate.EINTERNAL || patchgate.ErrorMessage(plain) != "internal error" {
		t.Fatal("a plain error must be internal and say only 'internal error'")
	}
}
