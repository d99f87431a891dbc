package evidence_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/evidence"
)

// TestEveryByteEditFails flips each byte of a signed pack in turn (and
// drops each line): every edit must be reported, in the envelope's form, a
// signature or the pack's own rules.
func TestEveryByteEditFails(t *testing.T) {
	key, _ := evidence.GenerateKey()
	good := mustSign(t, key, release())
	keys := []*evidence.PublicKey{key.PublicKey()}
	start := 0 // of the line holding byte i
	for i := range good {
		end := start + bytes.IndexByte(good[start:], '\n') + 1
		for _, flip := range []byte{0x01, 0x20} {
			edited := bytes.Clone(good)
			edited[i] ^= flip
			// Opening the edited line alone is enough when it fails there (its
			// form or signature); otherwise the whole pack must fail.
			if _, problems := evidence.Open(context.Background(), edited[start:end], keys); len(problems) > 0 {
				continue
			}
			if problems := verify(edited, patchgate.EvidenceWant{}, keys...); len(problems) == 0 {
				t.Fatalf("byte %d (%q) xor %#x: got no problem, want the edit reported", i, good[i], flip)
			}
		}
		if good[i] == '\n' {
			start = i + 1
		}
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	for i := range lines[:len(lines)-1] {
		dropped := bytes.Join(append(append([][]byte{}, lines[:i]...), lines[i+1:]...), nil)
		if problems := verify(dropped, patchgate.EvidenceWant{}, keys...); len(problems) == 0 {
			t.Errorf("line %d dropped: got no problem", i+1)
		}
	}
	t.Logf("%d bytes, each flipped twice, and %d lines dropped: all reported", len(good), len(lines)-1)
}

// FuzzOpen: whatever the bytes, Open and CheckEvidence answer without
// panicking, and only the signed pack itself holds.
func FuzzOpen(f *testing.F) {
	key, _ := evidence.GenerateKey()
	content, err := patchgate.BuildEvidence(release())
	if err != nil {
		f.Fatal(err)
	}
	good, err := (&evidence.Signer{Key: key}).SignPack(context.Background(), content)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("{}\n"))
	f.Add([]byte(""))
	keys := []*evidence.PublicKey{key.PublicKey()}
	f.Fuzz(func(t *testing.T, data []byte) {
		pack, problems := evidence.Open(context.Background(), data, keys)
		rep := patchgate.CheckEvidence(pack, patchgate.EvidenceWant{})
		if len(problems)+len(rep.Problems) == 0 && !bytes.Equal(data, good) {
			t.Fatalf("a pack other than the signed one holds:\n%s", data)
		}
	})
}
