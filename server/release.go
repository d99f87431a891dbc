package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// Proposer proposes release candidates on request (gate.Candidates).
type Proposer interface {
	CreateCandidate(ctx context.Context, req patchgate.CandidateRequest, by string) (*patchgate.Candidate, error)
}

// Releaser is the release gate: it evaluates, approves and promotes
// candidates (gate.Gate).
type Releaser interface {
	Evaluate(ctx context.Context, c *patchgate.Candidate) (*patchgate.Evaluation, error)
	Approve(ctx context.Context, id int64, sha string, by patchgate.Principal, via string) (*patchgate.Candidate, *patchgate.Evaluation, error)
	Withdraw(ctx context.Context, id int64, by patchgate.Principal) error
	Promote(ctx context.Context, id int64, by patchgate.Principal) (*patchgate.Candidate, error)
	// Authors lists who wrote a candidate, with forge user ids where known.
	Authors(ctx context.Context, c *patchgate.Candidate) ([]patchgate.ForgeUser, error)
}

// candidateListItem is a candidate as the list shows it: with its items,
// approvals and evaluation summary, so one call serves an overview page.
type candidateListItem struct {
	*patchgate.Candidate
	Summary patchgate.CandidateSummary `json:"summary"`
}

// handleListReleases serves GET /api/v1/releases?repo=&state=&forge=, each
// candidate with its summary (releasable, blockers, approvals and approvers).
func (s *Server) handleListReleases(c *gin.Context) {
	var (
		f   patchgate.CandidateFilter
		err error
	)
	if f.Offset, f.Limit, err = page(c); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Forge, err = optEnum(c, "forge", patchgate.Forge.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	if f.State, err = optEnum(c, "state", patchgate.CandidateState.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	f.Repo = optString(c, "repo")
	ctx := c.Request.Context()
	cs, total, err := s.Releases.FindCandidates(ctx, f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]candidateListItem, 0, len(cs))
	for _, cand := range cs {
		item, err := s.summarize(ctx, cand.ID)
		if err != nil {
			s.writeError(c, err)
			return
		}
		items = append(items, item)
	}
	c.JSON(http.StatusOK, gin.H{"releases": items, "total": total})
}

// summarize loads candidate id with its items and approvals and sums it up.
// Only open and promoting candidates are evaluated, which reads the forge and
// the verifications of every item; a repository has at most one open candidate
// (a new one supersedes it) and rarely one promoting, so a page costs a few
// evaluations whatever its length.
func (s *Server) summarize(ctx context.Context, id int64) (candidateListItem, error) {
	cand, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return candidateListItem{}, err
	}
	var ev *patchgate.Evaluation
	if cand.State == patchgate.CandidateOpen || cand.State == patchgate.CandidatePromoting {
		if ev, err = s.Releaser.Evaluate(ctx, cand); err != nil {
			return candidateListItem{}, err
		}
	}
	return candidateListItem{Candidate: cand, Summary: patchgate.SummarizeCandidate(cand, ev)}, nil
}

// handleGetRelease serves GET /api/v1/releases/:id: the candidate, what it
// contains, its approvals, and whether it is releasable (with the blockers).
func (s *Server) handleGetRelease(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	cand, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	ev, err := s.Releaser.Evaluate(ctx, cand)
	if err != nil {
		s.writeError(c, err)
		return
	}
	authors, unknown := s.authors(c, cand)
	out := gin.H{"release": cand, "evaluation": ev, "authors": authors}
	if unknown != "" {
		out["authors_unknown"] = unknown
	}
	c.JSON(http.StatusOK, out)
}

// authors lists who wrote cand, or, when the forge cannot say, why not (the
// author rule then refuses approvals, so the page still shows the
// candidate).
func (s *Server) authors(c *gin.Context, cand *patchgate.Candidate) ([]patchgate.ForgeUser, string) {
	authors, err := s.Releaser.Authors(c.Request.Context(), cand)
	if err != nil {
		s.Logger.Warn("list the authors of a candidate", "candidate", cand.ID, "repo", cand.Repo, "err", err)
		return []patchgate.ForgeUser{}, "who wrote it is not known: " + err.Error()
	}
	if authors == nil {
		authors = []patchgate.ForgeUser{}
	}
	return authors, ""
}

// handleCreateRelease serves POST /api/v1/releases.
func (s *Server) handleCreateRelease(c *gin.Context) {
	var req patchgate.CandidateRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	cand, err := s.Proposer.CreateCandidate(c.Request.Context(), req, p.Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"release": cand})
}

// handleApproveRelease serves POST /api/v1/releases/:id/approve {"sha"}.
func (s *Server) handleApproveRelease(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	var req struct {
		SHA string `json:"sha"`
		Via string `json:"via"`
	}
	if c.Request.ContentLength != 0 {
		if err := c.ShouldBindJSON(&req); err != nil {
			s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
			return
		}
	}
	if req.Via != "cli" {
		req.Via = "api"
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	cand, ev, err := s.Releaser.Approve(c.Request.Context(), id, req.SHA, p, req.Via)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"release": cand, "evaluation": ev})
}

// handleWithdrawApproval serves DELETE /api/v1/releases/:id/approve.
func (s *Server) handleWithdrawApproval(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	if err := s.Releaser.Withdraw(c.Request.Context(), id, p); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// handlePromoteRelease serves POST /api/v1/releases/:id/promote.
func (s *Server) handlePromoteRelease(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	cand, err := s.Releaser.Promote(c.Request.Context(), id, p)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"release": cand})
}
