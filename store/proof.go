package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/patchgate/patchgate"
)

var _ patchgate.ProofService = (*VerificationService)(nil)

// proofRecord is the part of a proof stored as JSON.
type proofRecord struct {
	Tests       []patchgate.ProofRecord `json:"tests"`
	Regressions []string                `json:"regressions,omitempty"`
	Excluded    []string                `json:"excluded,omitempty"`
}

var validProofStates = map[patchgate.ProofState]bool{
	patchgate.ProofHolds: true, patchgate.ProofNone: true, patchgate.ProofFailure: true, patchgate.ProofError: true,
}

// SaveProof stores p for its verification, replacing an earlier one.
func (s *VerificationService) SaveProof(ctx context.Context, p *patchgate.Proof) error {
	if !validProofStates[p.State] {
		return patchgate.Errorf(patchgate.EINVALID, "save proof of verification %d: %q is not a proof state", p.VerificationID, string(p.State))
	}
	rec, err := json.Marshal(proofRecord{Tests: p.Tests, Regressions: p.Regressions, Excluded: p.Excluded})
	if err != nil {
		return fmt.Errorf("save proof of verification %d: %w", p.VerificationID, err)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := findVerification(ctx, tx, p.VerificationID, ""); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM proofs WHERE verification_id = $1`, p.VerificationID); err != nil {
		return fmt.Errorf("save proof of verification %d: %w", p.VerificationID, err)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.db.now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO proofs (verification_id, state, description, base_sha, require_proof, record, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.VerificationID, p.State, p.Description, p.BaseSHA, p.RequireProof, string(rec), p.CreatedAt); err != nil {
		return fmt.Errorf("save proof of verification %d: %w", p.VerificationID, err)
	}
	return tx.Commit()
}

// FindProof returns the proof of a verification; ENOTFOUND when it has none.
func (s *VerificationService) FindProof(ctx context.Context, verificationID int64) (*patchgate.Proof, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p := &patchgate.Proof{VerificationID: verificationID}
	var rec string
	if err := tx.QueryRow(ctx, `SELECT state, description, base_sha, require_proof, record, created_at
		FROM proofs WHERE verification_id = $1`, verificationID).
		Scan(&p.State, &p.Description, &p.BaseSHA, &p.RequireProof, &rec, timeCol{&p.CreatedAt}); err != nil {
		return nil, notFound(err, "proof of verification %d", verificationID)
	}
	var r proofRecord
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return nil, fmt.Errorf("read proof of verification %d: %w", verificationID, err)
	}
	p.Tests, p.Regressions, p.Excluded = r.Tests, r.Regressions, r.Excluded
	if p.Tests == nil {
		p.Tests = []patchgate.ProofRecord{}
	}
	return p, nil
}
