package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

// Header names the forges sign and identify deliveries with.
const (
	HeaderGitHubEvent     = "X-GitHub-Event"
	HeaderGitHubDelivery  = "X-GitHub-Delivery"
	HeaderGitHubSignature = "X-Hub-Signature-256"
	HeaderGitLabEvent     = "X-Gitlab-Event"
	HeaderGitLabToken     = "X-Gitlab-Token"
	HeaderGitLabEventUUID = "X-Gitlab-Event-UUID"
	HeaderIdempotencyKey  = "Idempotency-Key"

	headerGitHubSHA1 = "X-Hub-Signature"
	sha256Prefix     = "sha256="
)

// VerifyGitHub checks X-Hub-Signature-256 (sha256=hex HMAC of the raw body)
// against each secret in constant time; any match passes, so secrets can be
// rotated by configuring old and new together. Anything else is EUNAUTHORIZED.
//
// The SHA-1 X-Hub-Signature is never accepted, which is why the format is
// checked here before go-github's ValidateSignature (that one would take sha1=).
// Empty secrets are skipped: an HMAC with an empty key is one anybody can make.
func VerifyGitHub(h http.Header, body []byte, secrets []string) error {
	sig, n := header(h, HeaderGitHubSignature)
	switch {
	case n == 0 && len(h.Values(headerGitHubSHA1)) > 0:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing (SHA-1 %s is not accepted)", HeaderGitHubSignature, headerGitHubSHA1)
	case n == 0:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing", HeaderGitHubSignature)
	case n > 1:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is sent %d times", HeaderGitHubSignature, n)
	}
	mac, ok := strings.CutPrefix(sig, sha256Prefix)
	if !ok || len(mac) != 2*sha256.Size || !isHex(mac) {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s: want sha256= and 64 hex digits", HeaderGitHubSignature)
	}
	matched := false
	for _, s := range secrets {
		// No early return: every configured secret costs the same whichever matches.
		if s != "" && github.ValidateSignature(sig, body, []byte(s)) == nil {
			matched = true
		}
	}
	if !matched {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s does not match the body", HeaderGitHubSignature)
	}
	return nil
}

// VerifyGitLab compares X-Gitlab-Token with each secret in constant time; any
// match passes. It compares SHA-256 digests so that neither the token's nor the
// secret's length leaks through timing (subtle.ConstantTimeCompare returns early
// on a length mismatch).
func VerifyGitLab(h http.Header, secrets []string) error {
	tok, n := header(h, HeaderGitLabToken)
	switch {
	case n > 1:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is sent %d times", HeaderGitLabToken, n)
	case tok == "":
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing", HeaderGitLabToken)
	}
	got := sha256.Sum256([]byte(tok))
	matched := 0
	for _, s := range secrets {
		if s == "" {
			continue // an empty secret would let an empty token in
		}
		want := sha256.Sum256([]byte(s))
		matched |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if matched != 1 {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s does not match", HeaderGitLabToken)
	}
	return nil
}

// SignGitHub returns the X-Hub-Signature-256 value GitHub would send for body,
// for tests and tools that play the forge.
func SignGitHub(secret string, body []byte) string {
	return sha256Prefix + hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
