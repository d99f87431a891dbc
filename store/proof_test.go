package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testProofs(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := open(t)
	s := store.NewVerificationService(db)
	v := mustCreate(t, s, newVerification(mustChange(t, db, 1), sha("head"), "d1"))

	_, err := s.FindProof(ctx, v.ID)
	wantCode(t, err, patchgate.ENOTFOUND)

	round := patchgate.ProofTest{File: "calc_test.go", Name: "TestRound", Language: patchgate.LangGo}
	p := patchgate.EvaluateProof([]patchgate.ProofTest{round},
		[]patchgate.TestResult{{Name: "TestRound", Status: patchgate.TestFailed, Message: "got 2, want 3"}},
		[]patchgate.TestResult{{Name: "TestRound", Status: patchgate.TestPassed}}, nil)
	p.VerificationID, p.BaseSHA, p.RequireProof = v.ID, sha("base"), true
	if err := s.SaveProof(ctx, &p); err != nil {
		t.Fatalf("SaveProof: %v", err)
	}
	got, err := s.FindProof(ctx, v.ID)
	if err != nil {
		t.Fatalf("FindProof: %v", err)
	}
	if got.State != patchgate.ProofHolds || got.Description != p.Description || got.BaseSHA != sha("base") ||
		!got.RequireProof || !reflect.DeepEqual(got.Tests, p.Tests) || got.CreatedAt.IsZero() {
		t.Errorf("got %+v, want %+v", got, p)
	}

	// A re-run replaces the proof.
	none := patchgate.NoProof("")
	none.VerificationID = v.ID
	if err := s.SaveProof(ctx, &none); err != nil {
		t.Fatalf("SaveProof again: %v", err)
	}
	got, err = s.FindProof(ctx, v.ID)
	if err != nil || got.State != patchgate.ProofNone || got.Description != "no regression test" || len(got.Tests) != 0 || got.RequireProof {
		t.Errorf("after replacing: got %+v, %v; want no proof", got, err)
	}

	bad := patchgate.Proof{VerificationID: v.ID, State: "maybe"}
	wantCode(t, s.SaveProof(ctx, &bad), patchgate.EINVALID)
	unknown := patchgate.NoProof("")
	unknown.VerificationID = v.ID + 1000
	wantCode(t, s.SaveProof(ctx, &unknown), patchgate.ENOTFOUND)
}
