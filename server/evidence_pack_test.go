package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestReleaseEvidenceDownload: GET /api/v1/releases/{id}/evidence serves the
// stored pack byte for byte, with its name, key id and digest; 404 before
// the release has one.
func TestReleaseEvidenceDownload(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	releases := store.NewReleaseService(ts.db)
	packs := store.NewEvidencePackService(ts.db)
	ts.srv.Releases, ts.srv.EvidencePacks = releases, packs
	c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: "acme/payments", Branch: "main", SHA: strings.Repeat("4", 40), Name: "v1.6.0", CreatedBy: "ops"}
	if err := releases.CreateCandidate(ctx, c); err != nil {
		t.Fatal(err)
	}
	download := func() (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, ts.http.URL+"/api/v1/releases/"+strconv.FormatInt(c.ID, 10)+"/evidence", nil)
		req.Header.Set("Authorization", "Bearer "+ts.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	if resp, body := download(); resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "packs are written when a release is promoted") {
		t.Fatalf("before promotion: got %d %s, want 404 saying when packs are written", resp.StatusCode, body)
	}
	data := []byte("{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\",\"signatures\":[]}\n")
	if _, err := packs.SaveEvidencePack(ctx, &patchgate.EvidencePackRecord{CandidateID: c.ID, Name: patchgate.EvidenceFileName("v1.6.0"),
		SHA256: "abc", KeyID: "k1", Data: data}); err != nil {
		t.Fatal(err)
	}
	resp, body := download()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("got %d %q, want 200 with the pack as stored", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Content-Type":        patchgate.EvidenceMediaType,
		"Content-Disposition": `attachment; filename="release-v1.6.0.intoto.jsonl"`,
		"X-Patchgate-Key-Id":  "k1",
		"X-Patchgate-Sha256":  "abc",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: got %q, want %q", h, got, want)
		}
	}
}
