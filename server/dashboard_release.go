package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// candidateCard is a candidate as the dashboard shows it, with what the
// signed-in principal may do to it (decided by the release policy, not here).
type candidateCard struct {
	*patchgate.Candidate
	Eval        *patchgate.Evaluation
	Approvers   []string
	CanApprove  bool
	CanWithdraw bool
	CanPromote  bool
	// Why says why the principal may not approve, for release managers.
	Why string
	// CSRFToken goes into the card's forms.
	CSRFToken string
}

// labelled renders people as logins with their forge user ids,
// "alice (id 11)": the id is who approved, the login only their name then.
func labelled(people []patchgate.ForgeUser) []string {
	out := make([]string, len(people))
	for i, p := range people {
		out[i] = p.Labelled()
	}
	return out
}

// releasesView is the landing page.
type releasesView struct {
	pageView
	Open     []*candidateCard
	Promoted []*candidateCard
}

// card loads a candidate with its items, evaluates it and asks the policy
// what p may do.
func (s *Server) card(c *gin.Context, id int64) (*candidateCard, error) {
	ctx := c.Request.Context()
	cand, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	card := &candidateCard{Candidate: cand, Approvers: labelled(cand.ApproverPeople())}
	if sess, ok := c.Get(sessionKey); ok {
		card.CSRFToken = sess.(*patchgate.Session).CSRF
	}
	if cand.State == patchgate.CandidatePromoted {
		return card, nil
	}
	if card.Eval, err = s.Releaser.Evaluate(ctx, cand); err != nil {
		return nil, err
	}
	p, _ := patchgate.PrincipalFromContext(ctx)
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return card, nil // a viewer or developer sees no buttons, nor reasons
	}
	if err := s.ReleasePolicy.CanApprove(ctx, cand, card.Eval, p); err == nil {
		card.CanApprove = true
	} else if code := patchgate.ErrorCode(err); code == patchgate.EFORBIDDEN || code == patchgate.ECONFLICT {
		if card.Eval.Releasable { // else the blockers say why
			card.Why = patchgate.ErrorMessage(err)
		}
	} else {
		return nil, err
	}
	card.CanWithdraw = s.ReleasePolicy.CanWithdraw(cand, p) == nil
	card.CanPromote = s.ReleasePolicy.CanPromote(cand, card.Eval, p) == nil
	return card, nil
}

// handleReleasesPage serves GET /ui/: open candidates with their state,
// blockers, approvals and actions; promoted releases below.
func (s *Server) handleReleasesPage(c *gin.Context) {
	if s.Releases == nil {
		s.dashboardError(c, patchgate.Errorf(patchgate.ENOTFOUND, "the release gate is not enabled on this server"))
		return
	}
	ctx := c.Request.Context()
	v := &releasesView{pageView: pageView{Title: "Releases", Nav: "releases"}}
	for _, st := range []patchgate.CandidateState{patchgate.CandidatePromoting, patchgate.CandidateOpen, patchgate.CandidatePromoted} {
		st := st
		cs, _, err := s.Releases.FindCandidates(ctx, patchgate.CandidateFilter{State: &st, Limit: 20})
		if err != nil {
			s.dashboardError(c, err)
			return
		}
		for _, cand := range cs {
			card, err := s.card(c, cand.ID)
			if err != nil {
				s.dashboardError(c, err)
				return
			}
			if st == patchgate.CandidatePromoted {
				v.Promoted = append(v.Promoted, card)
			} else {
				v.Open = append(v.Open, card)
			}
		}
	}
	s.render(c, http.StatusOK, "releases", v)
}

// itemView is one change of a candidate with its ticket and its evidence.
type itemView struct {
	*patchgate.CandidateItem
	// Evidence is the verification that verified the fix, else the newest
	// one of the change's head (to see why it did not).
	Evidence *patchgate.Verification
	Verified bool
}

// candidateView is the candidate page.
type candidateView struct {
	pageView
	Card  *candidateCard
	Items []itemView
	Audit []*patchgate.AuditEntry
	// Authors are who wrote the candidate, with their forge user ids;
	// AuthorsUnknown says why they could not be listed.
	Authors        []string
	AuthorsUnknown string
	// Evidence is the release's signed evidence pack, nil until promoted.
	Evidence *patchgate.EvidencePackRecord
}

// handleCandidatePage serves GET /ui/releases/:id.
func (s *Server) handleCandidatePage(c *gin.Context) {
	v, err := s.candidateView(c)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	s.render(c, http.StatusOK, "candidate", v)
}

func (s *Server) candidateView(c *gin.Context) (*candidateView, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	if s.Releases == nil {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "the release gate is not enabled on this server")
	}
	card, err := s.card(c, id)
	if err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	v := &candidateView{pageView: pageView{Title: "Release " + card.Name, Nav: "releases"}, Card: card}
	authors, unknown := s.authors(c, card.Candidate)
	v.Authors, v.AuthorsUnknown = labelled(authors), unknown
	for _, item := range card.Items {
		iv := itemView{CandidateItem: item}
		if item.Ticket != nil && card.Eval != nil {
			if ev := card.Eval.Evidence[item.Ticket.Key]; ev != nil {
				iv.Evidence, iv.Verified = ev, true
			}
		}
		if iv.Evidence == nil && item.Change != nil && s.Verifications != nil {
			sha := item.Change.HeadSHA
			vs, _, err := s.Verifications.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &item.Change.Forge, Repo: &item.Change.Repo, SHA: &sha, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(vs) > 0 {
				if iv.Evidence, err = s.Verifications.FindVerificationByID(ctx, vs[0].ID); err != nil {
					return nil, err
				}
			}
		}
		v.Items = append(v.Items, iv)
	}
	if s.EvidencePacks != nil {
		if v.Evidence, err = s.EvidencePacks.FindEvidencePack(ctx, id); err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
			return nil, err
		}
	}
	subject := fmt.Sprintf("candidate:%d", id)
	if v.Audit, err = s.Audit.FindAudit(ctx, patchgate.AuditFilter{Subject: &subject, Limit: 200}); err != nil {
		return nil, err
	}
	return v, nil
}

// handlePromotePage serves GET /ui/releases/:id/promote: a confirmation, as a
// promotion tags and publishes for good.
func (s *Server) handlePromotePage(c *gin.Context) {
	v, err := s.candidateView(c)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	v.Title = "Promote " + v.Card.Name + "?"
	s.render(c, http.StatusOK, "promote", v)
}

// releaseAction parses a release form: the candidate id, and the SHA the page
// showed, which must still be the candidate's.
func releaseAction(c *gin.Context) (id int64, sha string, err error) {
	if id, err = pathID(c, "id"); err != nil {
		return 0, "", err
	}
	sha = strings.TrimSpace(c.PostForm("sha"))
	if !patchgate.ValidSHA(sha) {
		return 0, "", patchgate.Errorf(patchgate.EINVALID, "the form names no commit: reload the page and retry")
	}
	return id, sha, nil
}

// actionDone flashes msg and goes back to the candidate's page (303).
func (s *Server) actionDone(c *gin.Context, id int64, msg string) {
	s.setFlash(c, msg)
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ui/releases/%d", id))
}

// actionRefused re-renders the candidate page with the refusal, at the status
// its code maps to.
func (s *Server) actionRefused(c *gin.Context, err error) {
	code := patchgate.ErrorCode(err)
	if code == patchgate.EINTERNAL {
		s.dashboardError(c, err)
		return
	}
	v, verr := s.candidateView(c)
	if verr != nil {
		s.dashboardError(c, err)
		return
	}
	v.Error = patchgate.ErrorMessage(err)
	s.render(c, statusOf[code], "candidate", v)
}

// handleDashboardApprove serves POST /ui/releases/:id/approve, through the
// same use case as POST /api/v1/releases/:id/approve.
func (s *Server) handleDashboardApprove(c *gin.Context) {
	id, sha, err := releaseAction(c)
	if err != nil {
		s.actionRefused(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		s.actionRefused(c, patchgate.Errorf(patchgate.EFORBIDDEN, "approving needs the %s role", patchgate.RoleReleaseManager))
		return
	}
	cand, ev, err := s.Releaser.Approve(c.Request.Context(), id, sha, p, "dashboard")
	if err != nil {
		s.actionRefused(c, err)
		return
	}
	s.actionDone(c, id, fmt.Sprintf("Approved %s at %s (%d of %d).", cand.Name, shortSHA(cand.SHA), ev.Approvals, ev.Needed))
}

// handleDashboardWithdraw serves POST /ui/releases/:id/withdraw.
func (s *Server) handleDashboardWithdraw(c *gin.Context) {
	id, _, err := releaseAction(c)
	if err != nil {
		s.actionRefused(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		s.actionRefused(c, patchgate.Errorf(patchgate.EFORBIDDEN, "withdrawing needs the %s role", patchgate.RoleReleaseManager))
		return
	}
	if err := s.Releaser.Withdraw(c.Request.Context(), id, p); err != nil {
		s.actionRefused(c, err)
		return
	}
	s.actionDone(c, id, "Your approval is withdrawn.")
}

// handleDashboardPromote serves POST /ui/releases/:id/promote.
func (s *Server) handleDashboardPromote(c *gin.Context) {
	id, sha, err := releaseAction(c)
	if err != nil {
		s.actionRefused(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		s.actionRefused(c, patchgate.Errorf(patchgate.EFORBIDDEN, "promoting needs the %s role", patchgate.RoleReleaseManager))
		return
	}
	ctx := c.Request.Context()
	cur, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		s.actionRefused(c, err)
		return
	}
	if cur.SHA != sha {
		s.actionRefused(c, patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is at %s, not %s: reload the page", cur.Name, shortSHA(cur.SHA), shortSHA(sha)))
		return
	}
	cand, err := s.Releaser.Promote(ctx, id, p)
	if err != nil {
		s.actionRefused(c, err)
		return
	}
	s.actionDone(c, id, fmt.Sprintf("Promoted %s: %s", cand.Name, cand.ReleaseURL))
}
