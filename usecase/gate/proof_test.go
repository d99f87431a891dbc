package gate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/gate"
)

func TestProofBlocker(t *testing.T) {
	who := "PAY-7: fix in #42"
	passesOnBase := patchgate.EvaluateProof([]patchgate.ProofTest{{File: "a_test.go", Name: "TestA", Language: patchgate.LangGo}},
		[]patchgate.TestResult{{Name: "TestA", Status: patchgate.TestPassed}}, []patchgate.TestResult{{Name: "TestA", Status: patchgate.TestPassed}}, nil)
	holds := patchgate.EvaluateProof([]patchgate.ProofTest{{File: "a_test.go", Name: "TestA", Language: patchgate.LangGo}},
		[]patchgate.TestResult{{Name: "TestA", Status: patchgate.TestFailed}}, []patchgate.TestResult{{Name: "TestA", Status: patchgate.TestPassed}}, nil)
	noTest := patchgate.NoProof("")
	broken := patchgate.Proof{State: patchgate.ProofError, Description: "no test ran on the head"}
	tests := []struct {
		name  string
		proof *patchgate.Proof
		want  string
	}{
		{"holds", &holds, ""},
		{"no test", &noTest, "PAY-7: fix in #42 adds no test that fails without it"},
		{"passes on base", &passesOnBase, "PAY-7: fix in #42 adds no test that fails without it (no proof: test passes without the fix: a_test.go:TestA)"},
		{"error", &broken, "PAY-7: fix in #42 has no proof: no test ran on the head"},
		{"never ran", nil, "PAY-7: fix in #42 has no fail-to-pass proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gate.ProofBlocker(who, tt.proof); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
