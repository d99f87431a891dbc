package testenv_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate/testenv"
)

func TestSecretForms(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		want   []string
	}{
		{name: "empty", secret: "", want: nil},
		{
			// The shifted base64 forms are 3 characters, too short to
			// mask; the upper-case hex is the lower-case.
			name: "short and plain", secret: "abc",
			want: []string{"abc", "YWJj", "616263"},
		},
		{
			name: "letters", secret: "hunter2",
			want: []string{
				"hunter2",
				"aHVudGVyMg==", "aHVudGVyMg", // base64 and base64url agree here
				"aHVudGVyM", "h1bnRlcj", "odW50ZXIy", // at offsets 0, 1 and 2
				"68756e74657232", "68756E74657232",
			},
		},
		{
			name: "every encoding differs", secret: "dk/2f+9a 7c=1e&5b?>",
			want: []string{
				"dk/2f+9a 7c=1e&5b?>",
				"ZGsvMmYrOWEgN2M9MWUmNWI/Pg==", "ZGsvMmYrOWEgN2M9MWUmNWI/Pg",
				"ZGsvMmYrOWEgN2M9MWUmNWI_Pg==", "ZGsvMmYrOWEgN2M9MWUmNWI_Pg",
				"ZGsvMmYrOWEgN2M9MWUmNWI/P", "RrLzJmKzlhIDdjPTFlJjViPz", "kay8yZis5YSA3Yz0xZSY1Yj8+",
				"ZGsvMmYrOWEgN2M9MWUmNWI_P", "kay8yZis5YSA3Yz0xZSY1Yj8-",
				"646b2f32662b39612037633d31652635623f3e", "646B2F32662B39612037633D31652635623F3E",
				"dk%2F2f%2B9a+7c%3D1e%265b%3F%3E", "dk%2F2f+9a%207c=1e&5b%3F%3E",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testenv.SecretForms(tt.secret); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSecretFormsCoverEveryAlignment encodes a secret after 0 to 5 bytes of
// other data and before 0 to 2, in every base64 variant, and checks that
// masking leaves only the characters that mix the secret's bits with the
// other data's (and the padding).
func TestSecretFormsCoverEveryAlignment(t *testing.T) {
	const secret = "s3cr?t/key+1 ~x&y"
	encodings := map[string]*base64.Encoding{
		"base64": base64.StdEncoding, "base64 unpadded": base64.RawStdEncoding,
		"base64url": base64.URLEncoding, "base64url unpadded": base64.RawURLEncoding,
	}
	for name, enc := range encodings {
		for before := range 6 {
			for after := range 3 {
				data := slices.Concat(bytes.Repeat([]byte{0xa5}, before), []byte(secret), bytes.Repeat([]byte{0xff}, after))
				encoded := enc.EncodeToString(data)
				var out bytes.Buffer
				w := testenv.NewMaskingWriter(&out, []string{secret})
				if _, err := w.Write([]byte(encoded)); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				// The characters the secret alone decides run from bit
				// 8*before to bit 8*(before+len(secret)).
				first, end := (8*before+5)/6, 8*(before+len(secret))/6
				if got, most := out.Len()-len("***"), first+len(encoded)-end; !strings.Contains(out.String(), "***") || got > most {
					t.Errorf("%s after %d bytes, before %d: got %q from %q, want *** and at most %d other characters", name, before, after, out.String(), encoded, most)
				}
			}
		}
	}
}

// TestSecretFormsCoverWrappedBase64 prints a long secret as `base64` (76
// characters a line) and `openssl base64` (64) do, with and without echo's
// newline, and checks that masking leaves at most a few characters of it.
func TestSecretFormsCoverWrappedBase64(t *testing.T) {
	secret := strings.Repeat("long-secret/", 8) // 96 bytes: 128 base64 characters
	for _, width := range []int{76, 64} {
		for _, data := range []string{secret, secret + "\n"} {
			encoded := base64.StdEncoding.EncodeToString([]byte(data))
			var lines []string
			for len(encoded) > width {
				lines, encoded = append(lines, encoded[:width]), encoded[width:]
			}
			text := strings.Join(append(lines, encoded), "\n") + "\n"
			var out bytes.Buffer
			w := testenv.NewMaskingWriter(&out, []string{secret})
			if _, err := w.Write([]byte(text)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if rest := strings.ReplaceAll(strings.Replace(out.String(), "***", "", 1), "\n", ""); !strings.Contains(out.String(), "***") || len(rest) > 4 {
				t.Errorf("lines of %d, data %q: got %q, want *** and at most 4 other characters", width, data, out.String())
			}
		}
	}
}

// FuzzMaskedStreamHidesEveryEncoding writes text holding a secret encoded in
// one of the common ways, amid other data, in chunks, and checks that no form
// of the secret survives masking.
func FuzzMaskedStreamHidesEveryEncoding(f *testing.F) {
	f.Add("log: ", "hunter2!", "x", "\n", uint8(0), uint8(3))
	f.Add("", "dk/2f+9a 7c=1e&5b?>", "ab", "", uint8(2), uint8(1))
	f.Add("a", "s3cr?t/key+1 ~x&y", "", "zz", uint8(5), uint8(7))
	f.Add("", "aaaa", "a", "a", uint8(7), uint8(0))
	f.Fuzz(func(t *testing.T, text, secret, before, after string, encoding, chunk uint8) {
		if len(secret) < 4 || strings.Contains(secret, "*") {
			// The configuration refuses shorter secrets; a secret with a *
			// can be rebuilt from the mask text around it.
			t.Skip()
		}
		data := before + secret + after
		encoders := []func(string) string{
			func(s string) string { return s },
			func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
			func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) },
			func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) },
			func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
			func(s string) string { return hex.EncodeToString([]byte(s)) },
			func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) },
			url.QueryEscape,
			url.PathEscape,
		}
		encoded := encoders[int(encoding)%len(encoders)](data)
		stream := text + encoded + text
		var sizes []int
		for n, i := int(chunk%17)+1, 0; i < len(stream); i += n {
			sizes = append(sizes, n)
		}
		got := writeChunks(t, stream, []string{secret}, sizes)
		for _, form := range testenv.SecretForms(secret) {
			if strings.Contains(got, form) {
				t.Fatalf("masking %q (encoder %d) in chunks of %d: got %q, which holds %q", data, int(encoding)%len(encoders), int(chunk%17)+1, got, form)
			}
		}
		if !strings.Contains(got, "***") {
			t.Fatalf("masking %q (encoder %d): got %q, want ***", data, int(encoding)%len(encoders), got)
		}
	})
}
