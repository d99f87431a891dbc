package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestCandidatePageLinksTheEvidencePack: a promoted release's page offers
// its pack for download, with the key that signed it.
func TestCandidatePageLinksTheEvidencePack(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	cand := &patchgate.Candidate{ID: 3, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: strings.Repeat("a", 40), Name: "v1.6.0", State: patchgate.CandidatePromoted}
	view := func(pack *patchgate.EvidencePackRecord) string {
		v := &candidateView{pageView: pageView{Title: "T", Actor: &patchgate.Principal{Name: "ops", Role: patchgate.RoleViewer}},
			Card: &candidateCard{Candidate: cand}, Evidence: pack}
		var buf bytes.Buffer
		if err := d.pages["candidate"].ExecuteTemplate(&buf, "layout.html", v); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	html := view(&patchgate.EvidencePackRecord{CandidateID: 3, Name: "release-v1.6.0.intoto.jsonl", KeyID: strings.Repeat("f", 64)})
	if !strings.Contains(html, `href="/ui/releases/3/evidence"`) || !strings.Contains(html, "release-v1.6.0.intoto.jsonl") ||
		!strings.Contains(html, "patchgate evidence verify") {
		t.Errorf("got no link to the evidence pack in:\n%s", html)
	}
	if html := view(nil); strings.Contains(html, "/evidence") {
		t.Error("a release without a pack links one")
	}
}
