package testenv_test

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate/testenv"
)

// reference is what masking must produce: strings.Replacer with every form
// of every secret, longest first, applied to the whole text at once.
func reference(text string, secrets []string) string {
	var ss []string
	for _, s := range secrets {
		for _, f := range testenv.SecretForms(s) {
			if !slices.Contains(ss, f) {
				ss = append(ss, f)
			}
		}
	}
	if len(ss) == 0 {
		return text
	}
	slices.SortStableFunc(ss, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	var pairs []string
	for _, s := range ss {
		pairs = append(pairs, s, "***")
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// writeChunks writes text to a masking writer in chunks of the given sizes
// (the rest in one write) and returns what came out.
func writeChunks(t testing.TB, text string, secrets []string, sizes []int) string {
	var out bytes.Buffer
	w := testenv.NewMaskingWriter(&out, secrets)
	for _, n := range sizes {
		n = min(n, len(text))
		if _, err := w.Write([]byte(text[:n])); err != nil {
			t.Fatal(err)
		}
		text = text[n:]
	}
	if _, err := w.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestMaskingWriter(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		secrets []string
		sizes   []int
		want    string
	}{
		{name: "no secrets", text: "hello", want: "hello"},
		{name: "empty secret ignored", text: "hello", secrets: []string{""}, want: "hello"},
		{name: "whole write", text: "token=hunter2.", secrets: []string{"hunter2"}, want: "token=***."},
		{name: "straddles two writes", text: "token=hunter2.", secrets: []string{"hunter2"}, sizes: []int{9}, want: "token=***."},
		{name: "byte by byte", text: "a hunter2 b hunter2", secrets: []string{"hunter2"}, sizes: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, want: "a *** b ***"},
		{name: "prefix then mismatch", text: "huntex hunter2", secrets: []string{"hunter2"}, sizes: []int{4, 3}, want: "huntex ***"},
		{name: "cut off at the end stays", text: "x hunte", secrets: []string{"hunter2"}, sizes: []int{3}, want: "x hunte"},
		{name: "longest wins", text: "abcd ab", secrets: []string{"ab", "abcd"}, sizes: []int{3}, want: "*** ***"},
		{name: "overlapping occurrences", text: "aaaa", secrets: []string{"aa"}, want: "******"},
		{name: "several secrets", text: "user=bob pass=s3cret", secrets: []string{"bob", "s3cret"}, sizes: []int{6, 10}, want: "user=*** pass=***"},
		{name: "secret spans many writes", text: "[0123456789]", secrets: []string{"0123456789"}, sizes: []int{2, 2, 2, 2, 2}, want: "[***]"},
		{name: "base64 straddles writes", text: "b64=aHVudGVyMg==.", secrets: []string{"hunter2"}, sizes: []int{6, 5}, want: "b64=***."},
		{name: "base64 inside longer data", text: "eGh1bnRlcjI=", secrets: []string{"hunter2"}, sizes: []int{3}, want: "eG***I="},
		{name: "hex byte by byte", text: "68756E74657232", secrets: []string{"hunter2"}, sizes: []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, want: "***"},
		{name: "query escape", text: "?k=a%2Bb+c%2F1", secrets: []string{"a+b c/1"}, want: "?k=***"},
		{name: "multiline", text: "line1 s3cret\nline2 s3\ncret", secrets: []string{"s3cret"}, sizes: []int{8}, want: "line1 ***\nline2 s3\ncret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := writeChunks(t, tt.text, tt.secrets, tt.sizes)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if ref := reference(tt.text, tt.secrets); got != ref {
				t.Errorf("got %q, reference %q", got, ref)
			}
		})
	}
}

// TestMaskingWriterHoldsBackOnlyPossibleSecrets checks that output is not
// delayed more than needed: a live log must stay live.
func TestMaskingWriterHoldsBackOnlyPossibleSecrets(t *testing.T) {
	var out bytes.Buffer
	w := testenv.NewMaskingWriter(&out, []string{"hunter2"})
	if _, err := w.Write([]byte("progress 10%\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "progress 10%\n"; got != want {
		t.Errorf("after first write got %q, want %q", got, want)
	}
	if _, err := w.Write([]byte("x hunt")); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "progress 10%\nx "; got != want {
		t.Errorf("after partial secret got %q, want %q", got, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("gone") }

func TestMaskingWriterReportsWriteErrors(t *testing.T) {
	w := testenv.NewMaskingWriter(failingWriter{}, []string{"s"})
	if _, err := w.Write([]byte("abc")); err == nil {
		t.Error("got nil error, want the underlying writer's")
	}
}

func FuzzMaskingWriter(f *testing.F) {
	f.Add("token=hunter2.", "hunter2", "", uint8(3))
	f.Add("aaaaab", "aab", "ab", uint8(1))
	f.Add("abcabcabd", "abcabd", "cab", uint8(2))
	f.Add("xx", "x", "xx", uint8(0))
	f.Fuzz(func(t *testing.T, text, s1, s2 string, chunk uint8) {
		secrets := []string{s1, s2}
		var sizes []int
		for n, i := int(chunk%17)+1, 0; i < len(text); i += n {
			sizes = append(sizes, n)
		}
		got := writeChunks(t, text, secrets, sizes)
		if want := reference(text, secrets); got != want {
			t.Fatalf("secrets %q, chunks of %d: got %q, want %q", secrets, int(chunk%17)+1, got, want)
		}
		if s2 == "" && s1 != "" && !containsEncodedForm(text, s1) {
			if want := strings.ReplaceAll(text, s1, "***"); got != want {
				t.Fatalf("one secret %q: got %q, want strings.ReplaceAll's %q", s1, got, want)
			}
		}
	})
}

// containsEncodedForm reports whether text holds a form of secret other than
// the secret itself.
func containsEncodedForm(text, secret string) bool {
	return slices.ContainsFunc(testenv.SecretForms(secret)[1:], func(f string) bool { return strings.Contains(text, f) })
}
