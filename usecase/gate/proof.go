package gate

import "github.com/patchgate/patchgate"

// ProofBlocker says in words why a fix does not count under
// release.require_proof, "" when its proof holds; who names the fix ("PAY-7:
// fix in #42"), proof is nil when none was recorded.
func ProofBlocker(who string, proof *patchgate.Proof) string {
	switch {
	case proof == nil:
		return who + " has no fail-to-pass proof"
	case proof.State == patchgate.ProofHolds:
		return ""
	case proof.State == patchgate.ProofNone && len(proof.Tests) == 0:
		return who + " adds no test that fails without it"
	case proof.State == patchgate.ProofNone:
		return who + " adds no test that fails without it (" + proof.Description + ")"
	}
	return who + " has no proof: " + proof.Description
}
