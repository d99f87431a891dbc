package testenv

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
)

// minEncodedForm is the shortest encoded form masked: the configuration's
// shortest secret. A shorter run of base64 or hex would blank out ordinary
// words and numbers.
const minEncodedForm = 4

// SecretForms lists the texts that reveal secret in a log: the secret itself,
// its standard and URL-safe base64 with and without padding, the base64
// characters it determines when it sits at each of the three offsets (mod 3)
// inside longer encoded data, its base64 from its start in lines of 76 and 64
// characters (as base64 and openssl write it), its lower- and upper-case hex,
// and its URL query and path escapes. A suite can print any of them as easily
// as the secret, so each is masked. Duplicates and encoded forms shorter than
// 4 characters are left out; the order is the one above.
func SecretForms(secret string) []string {
	if secret == "" {
		return nil
	}
	forms := []string{secret}
	add := func(f string) {
		if len(f) >= minEncodedForm && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	encodings := []*base64.Encoding{base64.StdEncoding, base64.URLEncoding}
	for _, enc := range encodings {
		add(enc.EncodeToString([]byte(secret)))
		add(enc.WithPadding(base64.NoPadding).EncodeToString([]byte(secret)))
	}
	for _, enc := range encodings {
		for shift := range 3 {
			add(shiftedBase64(enc, secret, shift))
		}
	}
	// base64 and openssl wrap their output in lines of 76 and 64
	// characters: a secret they encode from its start is cut where they
	// cut it.
	for _, width := range []int{76, 64} {
		for _, f := range []string{base64.StdEncoding.EncodeToString([]byte(secret)), shiftedBase64(base64.StdEncoding, secret, 0)} {
			if len(f) > width {
				add(wrapLines(f, width))
			}
		}
	}
	add(hex.EncodeToString([]byte(secret)))
	add(strings.ToUpper(hex.EncodeToString([]byte(secret))))
	add(url.QueryEscape(secret))
	add(url.PathEscape(secret))
	return forms
}

// shiftedBase64 returns the base64 characters that depend on secret alone when
// it follows shift bytes of other data (mod 3) in an encoded stream: those
// characters appear whatever surrounds it. Each character holds 6 bits, so
// the ones that straddle the secret's first or last byte and a neighbour's
// are left out.
func shiftedBase64(enc *base64.Encoding, secret string, shift int) string {
	data := make([]byte, shift, shift+len(secret))
	data = append(data, secret...)
	encoded := enc.WithPadding(base64.NoPadding).EncodeToString(data)
	// The first character made only of the secret's bits: bit 8*shift starts
	// it at 0, 2 or 3 (characters at bits 0, 6, 12, 18).
	first := (8*shift + 5) / 6
	// The last character ending within the data.
	end := 8 * len(data) / 6
	if first >= end {
		return ""
	}
	return encoded[first:end]
}

// wrapLines cuts s into lines of width characters, as base64 tools do.
func wrapLines(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteByte('\n')
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}
