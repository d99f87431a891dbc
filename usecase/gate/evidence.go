package gate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// RunEvidence reads what a verification showed (store.VerificationService).
type RunEvidence interface {
	// FindTests returns a suite run's results in report order; ENOTFOUND
	// when there is no such suite run.
	FindTests(ctx context.Context, suiteRunID int64) ([]patchgate.TestResult, error)
	// FindProof returns ENOTFOUND when the verification has no proof.
	FindProof(ctx context.Context, verificationID int64) (*patchgate.Proof, error)
}

// AuthorLister lists who wrote a candidate (AuthorRule.WritersByChange).
type AuthorLister interface {
	WritersByChange(ctx context.Context, c *patchgate.Candidate) ([]patchgate.EvidenceAuthor, error)
}

// PersonPins resolve a login to the forge user id patchgate pinned it to,
// pinning it on first use (people.Directory).
type PersonPins interface {
	// Pin returns ENOTFOUND when the forge has no such account.
	Pin(ctx context.Context, forge patchgate.Forge, login string) (*patchgate.PersonPin, error)
}

// AuditHeads reads the audit chain's head.
type AuditHeads interface {
	HeadAudit(ctx context.Context) (patchgate.AuditHead, error)
}

// PackSigner encodes and signs an evidence pack (the evidence adapter).
type PackSigner interface {
	// SignPack returns the signed pack (JSON Lines of DSSE envelopes).
	SignPack(ctx context.Context, c patchgate.EvidenceContent) ([]byte, error)
	// KeyID names the signing key (hex sha256 of its public key).
	KeyID() string
}

// EvidenceWriter writes a promotion's evidence pack.
type EvidenceWriter interface {
	// Record writes (once) and attaches (once) the pack of c, promoted as
	// rel after ev let it through.
	Record(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, rel *patchgate.ForgeRelease) (*patchgate.EvidencePackRecord, error)
}

// EvidenceRecorder writes the signed evidence pack of each promotion, keeps
// it in the database and attaches it to the forge release. Set the fields,
// then use it from any number of goroutines.
type EvidenceRecorder struct {
	Runs RunEvidence
	// Authors list everyone the author rule counts; nil lists the changes'
	// openers only.
	Authors AuthorLister
	// People name approvers and authors by forge user id; nil names them by
	// login only.
	People PersonPins
	Audit  AuditHeads
	Signer PackSigner
	Packs  patchgate.EvidencePackService
	// Assets attach the pack to the forge release, per forge; a forge
	// without one keeps the pack in the database only.
	Assets map[patchgate.Forge]patchgate.ReleaseAssets
	// PublicURL is patchgate's URL, for links to its verifications.
	PublicURL string
}

var _ EvidenceWriter = (*EvidenceRecorder)(nil)

// Record signs c's pack unless it has one (a retried promotion keeps the
// first), stores it, and attaches it to the forge release unless it is
// there already. An error leaves the promotion in progress, for a retry to
// finish.
func (r *EvidenceRecorder) Record(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, rel *patchgate.ForgeRelease) (*patchgate.EvidencePackRecord, error) {
	pack, err := r.Packs.FindEvidencePack(ctx, c.ID)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		pack, err = r.sign(ctx, c, ev, rel)
	}
	if err != nil {
		return nil, err
	}
	assets := r.Assets[c.Forge]
	if pack.AssetURL != "" || assets == nil || rel == nil {
		return pack, nil
	}
	url, err := assets.AttachReleaseAsset(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, rel, pack.Name, patchgate.EvidenceMediaType, pack.Data)
	if err != nil {
		return nil, fmt.Errorf("attach %s to release %s: %w", pack.Name, c.Name, err)
	}
	if err := r.Packs.SetEvidenceAsset(ctx, c.ID, url); err != nil {
		return nil, err
	}
	pack.AssetURL = url
	return pack, nil
}

// sign gathers what the gate decided on, signs the pack and stores it.
func (r *EvidenceRecorder) sign(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, rel *patchgate.ForgeRelease) (*patchgate.EvidencePackRecord, error) {
	if ev == nil || !ev.Releasable {
		var blockers []string
		if ev != nil {
			blockers = patchgate.BlockerMessages(ev.Blockers)
		}
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "the evidence pack of %s cannot record a PASSED decision: %s; resolve the blockers and retry the promotion",
			c.Name, strings.Join(blockers, "; "))
	}
	src := patchgate.EvidenceSource{Candidate: c, Evaluation: ev, Tests: map[int64][]patchgate.TestResult{},
		Proofs: map[string]*patchgate.Proof{}, UserIDs: map[string]int64{}, PublicURL: r.PublicURL, At: time.Now().UTC()}
	if rel != nil {
		src.ReleaseURL = rel.URL
	}
	if v := ev.Verification; v != nil {
		for _, run := range v.Suites {
			tests, err := r.Runs.FindTests(ctx, run.ID)
			if err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				return nil, fmt.Errorf("read the tests of suite %s of verification %d: %w", run.Name, v.ID, err)
			}
			src.Tests[run.ID] = tests
		}
	}
	var logins []string
	for _, item := range c.Items {
		if item.Change != nil && item.Change.Author != "" {
			logins = append(logins, item.Change.Author)
		}
		if item.Ticket == nil {
			continue
		}
		if v := ev.Evidence[item.Ticket.Key]; v != nil {
			proof, err := r.Runs.FindProof(ctx, v.ID)
			if err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				return nil, fmt.Errorf("read the proof of %s (verification %d): %w", item.Ticket.Key, v.ID, err)
			}
			if proof != nil {
				src.Proofs[item.Ticket.Key] = proof
			}
		}
	}
	// The ids the gate recorded (an approval's approver, a writer the forge
	// named by id) come first; a login with none is looked up in the pins.
	known := func(login string, id int64) {
		if id != 0 {
			src.UserIDs[strings.ToLower(login)] = id
		}
	}
	for _, a := range c.Approvals {
		logins = append(logins, a.Approver)
		known(a.Approver, a.ApproverID)
	}
	if r.Authors != nil {
		authors, err := r.Authors.WritersByChange(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("who wrote %s, for its evidence pack: %w", c.Name, err)
		}
		src.Authors = authors
		for _, a := range authors {
			logins = append(logins, a.Login)
			known(a.Login, a.UserID)
		}
	}
	if r.People != nil {
		for _, login := range logins {
			if (patchgate.ForgeUser{Forge: c.Forge, Login: login}).Validate() != nil {
				continue // a commit's author name or email, not a login
			}
			if src.UserIDs[strings.ToLower(login)] != 0 {
				continue
			}
			// A person the forge cannot name now keeps their login: verify
			// then tells people apart by login, as the gate did.
			if pin, err := r.People.Pin(ctx, c.Forge, login); err == nil && pin != nil {
				src.UserIDs[strings.ToLower(login)] = pin.UserID
			}
		}
	}
	head, err := r.Audit.HeadAudit(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the audit head for the evidence pack: %w", err)
	}
	src.AuditHead = head
	content, err := patchgate.BuildEvidence(src)
	if err != nil {
		return nil, err
	}
	data, err := r.Signer.SignPack(ctx, content)
	if err != nil {
		return nil, fmt.Errorf("sign the evidence pack of %s: %w", c.Name, err)
	}
	sum := sha256.Sum256(data)
	return r.Packs.SaveEvidencePack(ctx, &patchgate.EvidencePackRecord{CandidateID: c.ID, Name: patchgate.EvidenceFileName(c.Name),
		SHA256: hex.EncodeToString(sum[:]), KeyID: r.Signer.KeyID(), Data: data})
}

// writeEvidence writes the promotion's pack when the gate has a writer. A
// retried promotion (ev nil: the candidate was promoting already) is
// evaluated again; the pack signed first holds anyway.
func (g *Gate) writeEvidence(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, rel *patchgate.ForgeRelease) error {
	if g.Packs == nil {
		return nil
	}
	if ev == nil {
		var err error
		if ev, err = g.Evaluate(ctx, c); err != nil {
			return err
		}
	}
	if _, err := g.Packs.Record(ctx, c, ev, rel); err != nil {
		return fmt.Errorf("write the evidence pack of %s (the promotion stays in progress; retry it to finish): %w", c.Name, err)
	}
	return nil
}
