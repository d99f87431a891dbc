package forges_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
)

// TestArchiveErrorCarriesNoDownloadToken checks that a failed download of a
// tarball link (which carries a short-lived token in its query, and may carry
// credentials in its user info) never repeats the link whole in the error:
// errors end up in suite descriptions and logs.
func TestArchiveErrorCarriesNoDownloadToken(t *testing.T) {
	// A port nothing listens on: the download fails in the HTTP client.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const token, password = "AABBCCDDEEFF0011", "hunter2secret"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/tarball/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Location", "http://bot:"+password+"@"+dead+"/acme/payments/legacy.tar.gz/x?token="+token)
		w.WriteHeader(http.StatusFound)
	}))
	defer api.Close()
	cfg := fastConfig()
	cfg.BaseURL = api.URL + "/"
	cfg.Retry.MaxRetries = 1
	g, err := forges.NewGitHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Archive(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}, sha("x"))
	if err == nil {
		t.Fatal("got no error, want the failed download")
	}
	msg := err.Error()
	if strings.Contains(msg, token) || strings.Contains(msg, password) || strings.Contains(msg, "token=") {
		t.Errorf("got error %q, want it without the link's token and credentials", msg)
	}
	if !strings.Contains(msg, dead+"/acme/payments/legacy.tar.gz/x") {
		t.Errorf("got error %q, want it to still say where the download went", msg)
	}
}
