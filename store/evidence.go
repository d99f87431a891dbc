package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/patchgate/patchgate"
)

// EvidencePackService stores release evidence packs, one per candidate: the
// primary key settles racing promotions (the first pack wins).
type EvidencePackService struct{ db *DB }

var _ patchgate.EvidencePackService = (*EvidencePackService)(nil)

// NewEvidencePackService returns the evidence pack service of db.
func NewEvidencePackService(db *DB) *EvidencePackService { return &EvidencePackService{db: db} }

const evidenceColumns = `candidate_id, name, sha256, key_id, data, asset_url, created_at`

func evidenceDest(p *patchgate.EvidencePackRecord) []any {
	return []any{&p.CandidateID, &p.Name, &p.SHA256, &p.KeyID, &p.Data, &p.AssetURL, timeCol{&p.CreatedAt}}
}

// SaveEvidencePack stores p unless its candidate has a pack already, and
// returns the pack that holds. A new pack and its evidence.signed audit entry
// (its sha256 and key id) commit together. ENOTFOUND when the candidate does
// not exist.
func (s *EvidencePackService) SaveEvidencePack(ctx context.Context, p *patchgate.EvidencePackRecord) (*patchgate.EvidencePackRecord, error) {
	if p.Name == "" || p.SHA256 == "" || p.KeyID == "" || len(p.Data) == 0 {
		return nil, patchgate.Errorf(patchgate.EINVALID, "evidence pack of candidate %d: name, sha256, key id and data are required", p.CandidateID)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var c patchgate.Candidate
	if err := tx.QueryRow(ctx, `SELECT id, forge, repo, sha, name FROM candidates WHERE id = $1`+s.db.forUpdate(), p.CandidateID).
		Scan(&c.ID, &c.Forge, &c.Repo, &c.SHA, &c.Name); err != nil {
		return nil, notFound(err, "candidate %d", p.CandidateID)
	}
	held := &patchgate.EvidencePackRecord{}
	err = tx.QueryRow(ctx, `SELECT `+evidenceColumns+` FROM evidence_packs WHERE candidate_id = $1`, p.CandidateID).Scan(evidenceDest(held)...)
	if err == nil {
		return held, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read the evidence pack of candidate %d: %w", p.CandidateID, err)
	}
	now := s.db.now()
	if _, err := tx.Exec(ctx, `INSERT INTO evidence_packs (`+evidenceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.CandidateID, p.Name, p.SHA256, p.KeyID, p.Data, p.AssetURL, now); err != nil {
		return nil, fmt.Errorf("store the evidence pack of candidate %d: %w", p.CandidateID, err)
	}
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, patchgate.SystemActor), patchgate.AuditEvidenceSigned, &c,
		map[string]string{"sha256": p.SHA256, "key_id": p.KeyID, "file": p.Name})); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	out := *p
	out.CreatedAt = now
	return &out, nil
}

// FindEvidencePack returns a candidate's pack; ENOTFOUND when none.
func (s *EvidencePackService) FindEvidencePack(ctx context.Context, candidateID int64) (*patchgate.EvidencePackRecord, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p := &patchgate.EvidencePackRecord{}
	if err := tx.QueryRow(ctx, `SELECT `+evidenceColumns+` FROM evidence_packs WHERE candidate_id = $1`, candidateID).Scan(evidenceDest(p)...); err != nil {
		return nil, notFound(err, "evidence pack of candidate %d", candidateID)
	}
	return p, nil
}

// SetEvidenceAsset records where the forge release carries a candidate's
// pack; ENOTFOUND when it has none.
func (s *EvidencePackService) SetEvidenceAsset(ctx context.Context, candidateID int64, url string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `UPDATE evidence_packs SET asset_url = $1 WHERE candidate_id = $2`, url, candidateID)
	if err != nil {
		return fmt.Errorf("record the evidence asset of candidate %d: %w", candidateID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return patchgate.Errorf(patchgate.ENOTFOUND, "evidence pack of candidate %d not found", candidateID)
	}
	return tx.Commit()
}
