package webhooks

import (
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// GitHub's documented test vector (DESIGN.md, Security rules).
const (
	vectorSecret = "It's a Secret to Everybody"
	vectorBody   = "Hello, World!"
	vectorSig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func headerWith(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestSignGitHubVector(t *testing.T) {
	if got := SignGitHub(vectorSecret, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("got %s, want %s", got, vectorSig)
	}
}

func TestVerifyGitHub(t *testing.T) {
	sig := HeaderGitHubSignature
	tests := []struct {
		name    string
		header  http.Header
		body    string
		secrets []string
		code    string
	}{
		{"documented vector", headerWith(sig, vectorSig), vectorBody, []string{vectorSecret}, ""},
		{"rotation: second secret matches", headerWith(sig, vectorSig), vectorBody, []string{"new secret", vectorSecret}, ""},
		{"rotation: empty secret skipped", headerWith(sig, vectorSig), vectorBody, []string{"", vectorSecret}, ""},
		{"upper-case hex", headerWith(sig, "sha256="+strings.ToUpper(strings.TrimPrefix(vectorSig, "sha256="))), vectorBody, []string{vectorSecret}, ""},
		{"wrong secret", headerWith(sig, vectorSig), vectorBody, []string{"It's a Secret to Nobody"}, patchgate.EUNAUTHORIZED},
		{"body changed", headerWith(sig, vectorSig), vectorBody + "\n", []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"no secrets configured", headerWith(sig, vectorSig), vectorBody, nil, patchgate.EUNAUTHORIZED},
		{"empty secret does not sign", headerWith(sig, SignGitHub("", []byte(vectorBody))), vectorBody, []string{""}, patchgate.EUNAUTHORIZED},
		{"missing", headerWith(), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"empty", headerWith(sig, ""), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"SHA-1 header alone", headerWith("X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"sha1= in the SHA-256 header", headerWith(sig, "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"sha512= in the SHA-256 header", headerWith(sig, "sha512="+strings.Repeat("ab", 64)), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"no prefix", headerWith(sig, strings.TrimPrefix(vectorSig, "sha256=")), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"non-hex", headerWith(sig, "sha256="+strings.Repeat("zz", 32)), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"too short", headerWith(sig, vectorSig[:len(vectorSig)-2]), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"too long", headerWith(sig, vectorSig+"00"), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"trailing space", headerWith(sig, vectorSig+" "), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
		{"sent twice", headerWith(sig, vectorSig, sig, vectorSig), vectorBody, []string{vectorSecret}, patchgate.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyGitHub(tt.header, []byte(tt.body), tt.secrets)
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: got code %q, want %q", err, code, tt.code)
			}
		})
	}
}

func TestVerifyGitLab(t *testing.T) {
	tok := HeaderGitLabToken
	tests := []struct {
		name    string
		header  http.Header
		secrets []string
		code    string
	}{
		{"match", headerWith(tok, "s3cret"), []string{"s3cret"}, ""},
		{"rotation: second secret matches", headerWith(tok, "s3cret"), []string{"n3w", "s3cret"}, ""},
		{"wrong", headerWith(tok, "s3cret"), []string{"other"}, patchgate.EUNAUTHORIZED},
		{"prefix of the secret", headerWith(tok, "s3cre"), []string{"s3cret"}, patchgate.EUNAUTHORIZED},
		{"secret is a prefix", headerWith(tok, "s3cret!"), []string{"s3cret"}, patchgate.EUNAUTHORIZED},
		{"case differs", headerWith(tok, "S3CRET"), []string{"s3cret"}, patchgate.EUNAUTHORIZED},
		{"missing", headerWith(), []string{"s3cret"}, patchgate.EUNAUTHORIZED},
		{"empty token, empty secret", headerWith(tok, ""), []string{""}, patchgate.EUNAUTHORIZED},
		{"no secrets configured", headerWith(tok, "s3cret"), nil, patchgate.EUNAUTHORIZED},
		{"sent twice", headerWith(tok, "s3cret", tok, "s3cret"), []string{"s3cret"}, patchgate.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyGitLab(tt.header, tt.secrets)
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: got code %q, want %q", err, code, tt.code)
			}
		})
	}
}

func TestGitHubDelivery(t *testing.T) {
	const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
	ev, del, sig := HeaderGitHubEvent, HeaderGitHubDelivery, HeaderGitHubSignature
	tests := []struct {
		name   string
		header http.Header
		want   Delivery
		code   string
	}{
		{"complete", headerWith(ev, "pull_request", del, id, sig, vectorSig), Delivery{patchgate.GitHub, id, "pull_request"}, ""},
		{"lower-case header names", http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {id}, "X-Hub-Signature-256": {"x"}}, Delivery{patchgate.GitHub, id, "push"}, ""},
		{"unknown event is still a delivery", headerWith(ev, "star", del, id, sig, vectorSig), Delivery{patchgate.GitHub, id, "star"}, ""},
		{"event missing", headerWith(del, id, sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"event with odd characters", headerWith(ev, "pull request\r\n", del, id, sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"event too long", headerWith(ev, strings.Repeat("a", 65), del, id, sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"event twice", headerWith(ev, "push", ev, "ping", del, id, sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"delivery missing", headerWith(ev, "push", sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"delivery empty", headerWith(ev, "push", del, "", sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"delivery with a slash", headerWith(ev, "push", del, "../"+id, sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"delivery too long", headerWith(ev, "push", del, strings.Repeat("a", 129), sig, vectorSig), Delivery{}, patchgate.EINVALID},
		{"signature missing", headerWith(ev, "push", del, id), Delivery{}, patchgate.EUNAUTHORIZED},
		{"only the SHA-1 signature", headerWith(ev, "push", del, id, "X-Hub-Signature", "sha1=00"), Delivery{}, patchgate.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GitHubDelivery(tt.header)
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: got code %q, want %q", err, code, tt.code)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGitLabDelivery(t *testing.T) {
	const (
		key  = "2b1c4a1e-0a7c-4b8e-9a55-3f1f2e0d9c11"
		uuid = "9f4b1c3d-2e5a-4f6b-8c7d-0a1b2c3d4e5f"
	)
	ev, idem, evUUID, tok := HeaderGitLabEvent, HeaderIdempotencyKey, HeaderGitLabEventUUID, HeaderGitLabToken
	tests := []struct {
		name   string
		header http.Header
		want   Delivery
		code   string
	}{
		{"Idempotency-Key wins", headerWith(ev, "Merge Request Hook", idem, key, evUUID, uuid, tok, "t"), Delivery{patchgate.GitLab, key, "Merge Request Hook"}, ""},
		{"event UUID when there is no key", headerWith(ev, "Push Hook", evUUID, uuid, tok, "t"), Delivery{patchgate.GitLab, uuid, "Push Hook"}, ""},
		{"no id", headerWith(ev, "Push Hook", tok, "t"), Delivery{}, patchgate.EINVALID},
		{"bad key is not replaced by the UUID", headerWith(ev, "Push Hook", idem, "a b", evUUID, uuid, tok, "t"), Delivery{}, patchgate.EINVALID},
		{"event missing", headerWith(idem, key, tok, "t"), Delivery{}, patchgate.EINVALID},
		{"event with odd characters", headerWith(ev, "Push_Hook;", idem, key, tok, "t"), Delivery{}, patchgate.EINVALID},
		{"token missing", headerWith(ev, "Push Hook", idem, key), Delivery{}, patchgate.EUNAUTHORIZED},
		{"token empty", headerWith(ev, "Push Hook", idem, key, tok, ""), Delivery{}, patchgate.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GitLabDelivery(tt.header)
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: got code %q, want %q", err, code, tt.code)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzVerifyGitHub checks, for any secret, body and header value: no panic; the
// signature GitHub would compute always verifies; flipping any one byte of the
// body makes it fail; and an arbitrary header passes only if it is that
// signature (up to the case of its hex digits).
func FuzzVerifyGitHub(f *testing.F) {
	f.Add(vectorSecret, []byte(vectorBody), uint(3), vectorSig)
	f.Add("s", []byte(`{"zen":"Keep it logically awesome."}`), uint(0), "sha1=00")
	f.Add("", []byte{}, uint(0), "")
	f.Add("\x00secret", []byte{0xff, 0x00}, uint(1), "sha256=")
	f.Fuzz(func(t *testing.T, secret string, body []byte, flip uint, arbitrary string) {
		secrets := []string{secret}
		good := SignGitHub(secret, body)
		err := VerifyGitHub(headerWith(HeaderGitHubSignature, good), body, secrets)
		if secret == "" {
			if err == nil {
				t.Fatal("an empty secret verified a signature")
			}
			return
		}
		if err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if len(body) > 0 {
			changed := append([]byte(nil), body...)
			changed[flip%uint(len(body))] ^= 1 << (flip % 8)
			if VerifyGitHub(headerWith(HeaderGitHubSignature, good), changed, secrets) == nil {
				t.Fatal("signature verified a changed body")
			}
		}
		h := http.Header{HeaderGitHubSignature: {arbitrary}}
		if VerifyGitHub(h, body, secrets) == nil && !strings.EqualFold(arbitrary, good) {
			t.Fatalf("header %q verified, want only %q", arbitrary, good)
		}
	})
}

func BenchmarkVerifyGitHub(b *testing.B) {
	body := MustReadFixture(b, "github/pull_request/opened.api.github.com.13.json")
	// Rotation is the slow path: the matching secret is the second one.
	secrets := []string{"previous secret", "current secret"}
	h := headerWith(HeaderGitHubSignature, SignGitHub(secrets[1], body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyGitHub(h, body, secrets); err != nil {
			b.Fatal(err)
		}
	}
}
