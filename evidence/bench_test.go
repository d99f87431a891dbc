package evidence_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/evidence"
)

// BenchmarkSignPack signs the 4-statement pack of release().
func BenchmarkSignPack(b *testing.B) {
	key, _ := evidence.GenerateKey()
	content, err := patchgate.BuildEvidence(release())
	if err != nil {
		b.Fatal(err)
	}
	signer := &evidence.Signer{Key: key}
	for b.Loop() {
		if _, err := signer.SignPack(context.Background(), content); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPack opens and checks it, as `patchgate evidence verify` does.
func BenchmarkVerifyPack(b *testing.B) {
	key, _ := evidence.GenerateKey()
	content, _ := patchgate.BuildEvidence(release())
	data, err := (&evidence.Signer{Key: key}).SignPack(context.Background(), content)
	if err != nil {
		b.Fatal(err)
	}
	keys := []*evidence.PublicKey{key.PublicKey()}
	for b.Loop() {
		if problems := verify(data, patchgate.EvidenceWant{}, keys...); len(problems) != 0 {
			b.Fatal(problems)
		}
	}
}
