package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
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
