package patchgate

// AdmitQuarantine decides whether a valid quarantine q may be created, given
// the recorded outcomes of its test in the repository's latest verifications:
// a test those outcomes show broken rather than flaky (BrokenNotFlaky) is to
// be fixed, not quarantined, so EUNPROCESSABLE naming the evidence.
func AdmitQuarantine(q *Quarantine, outcomes []TestOutcome) error {
	if evidence, broken := BrokenNotFlaky(q.Test, outcomes); broken {
		return Errorf(EUNPROCESSABLE, "cannot quarantine %s as flaky: %s", q.Test, evidence)
	}
	return nil
}
