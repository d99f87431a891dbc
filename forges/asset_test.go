package forges_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestAttachReleaseAsset: the pack lands on the release (a GitHub upload, a
// GitLab link to a generic package file) once, however often it is attached.
func TestAttachReleaseAsset(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			fx := MustReleaseFixture(t, tc, "v1.4.2")
			rel := fx.MustPublish(t)
			assets, ok := fx.c.(patchgate.ReleaseAssets)
			if !ok {
				t.Fatalf("%s client: got no patchgate.ReleaseAssets", tc.name)
			}
			data := []byte("{\"payloadType\":\"application/vnd.in-toto+json\"}\n")
			name := patchgate.EvidenceFileName("v1.4.2")
			ctx := context.Background()
			url, err := assets.AttachReleaseAsset(ctx, tc.ref(), rel, name, patchgate.EvidenceMediaType, data)
			if err != nil || url == "" {
				t.Fatalf("AttachReleaseAsset = %q, %v; want a download URL", url, err)
			}
			// A retried promotion attaches again: the asset is kept, once.
			fx.ff.ResetRequests()
			again, err := assets.AttachReleaseAsset(ctx, tc.ref(), rel, name, patchgate.EvidenceMediaType, data)
			if err != nil || again != url {
				t.Fatalf("second AttachReleaseAsset = %q, %v; want %q", again, err, url)
			}
			if n := writes(fx.ff); n != 0 {
				t.Errorf("the second attach wrote %d times, want 0 (requests %q)", n, fx.ff.Requests())
			}
			got := fx.ff.ReleaseAssets(tc.repo, "v1.4.2")
			if len(got) != 1 || got[0].Name != name || !bytes.Equal(got[0].Data, data) || got[0].URL != url {
				t.Fatalf("assets on the forge: got %+v, want %s with the pack at %s", got, name, url)
			}
			if tc.forge == patchgate.GitHub && got[0].ContentType != patchgate.EvidenceMediaType {
				t.Errorf("content type: got %q, want %s", got[0].ContentType, patchgate.EvidenceMediaType)
			}
			if tc.forge == patchgate.GitLab && !strings.Contains(url, "/packages/generic/patchgate-evidence/v1.4.2/") {
				t.Errorf("GitLab link: got %q, want the generic package file", url)
			}
			if u := fx.ff.Unhandled(); len(u) != 0 {
				t.Errorf("requests no fake route served: %q", u)
			}
		})
	}
}
