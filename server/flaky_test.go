package server_test

import (
	"net/http"
	"testing"
)

func TestFlakyTestsRejectsBadRequests(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name string
		path string
		want int
	}{
		{"not the flaky resource", "/api/v1/repos/github/acme/payments/tests", http.StatusNotFound},
		{"unknown forge", "/api/v1/repos/bitbucket/acme/payments/flaky", http.StatusBadRequest},
		{"window zero", "/api/v1/repos/github/acme/payments/flaky?last=0", http.StatusBadRequest},
		{"window too large", "/api/v1/repos/github/acme/payments/flaky?last=5000", http.StatusBadRequest},
		{"server does not verify", "/api/v1/repos/gitlab/group/sub/api/flaky", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.get(t, tt.path, tt.want, nil)
		})
	}
}
