package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// EnforcementChecker says whether a configured repository's forge enforces
// the gate, reading its settings through the forge's API
// (protection.Checker). It never changes them. ENOTFOUND for a repository
// that is not configured; the forge's errors keep their codes.
type EnforcementChecker interface {
	Check(ctx context.Context, forge patchgate.Forge, name, branch string) (*patchgate.Enforcement, error)
}

// reposView is the list of configured repositories.
type reposView struct {
	pageView
	Repos []*patchgate.Repository
	// CanCheck is false when the server has no enforcement checker.
	CanCheck bool
	// Reconcile is the last head reconciliation; nil before the first.
	Reconcile *patchgate.ReconcileRun
}

// handleReposPage serves GET /ui/repos: the configured repositories, each
// linking to its forge enforcement page. It asks no forge.
func (s *Server) handleReposPage(c *gin.Context) {
	v := &reposView{pageView: pageView{Title: "Repositories", Nav: "repos"}, CanCheck: s.Enforcement != nil}
	if s.Repos != nil {
		v.Repos = s.Repos.All()
	}
	if s.LastReconcile != nil {
		if run, ok := s.LastReconcile(); ok {
			v.Reconcile = &run
		}
	}
	s.render(c, http.StatusOK, "repos", v)
}

// enforcementView is one repository's forge enforcement.
type enforcementView struct {
	pageView
	Repo *patchgate.Repository
	// Branch is the branch asked for ("" is the default).
	Branch string
	E      *patchgate.Enforcement
	// AppOnly counts the gaps only GitHub App mode closes.
	AppOnly int
}

// handleEnforcementPage serves GET /ui/repos/{forge}/{owner/name}/enforcement
// ?branch=: what `patchgate forge check` prints, read from the forge now. A
// forge that cannot be read is a 502 page saying why, not an error page.
func (s *Server) handleEnforcementPage(c *gin.Context) {
	name, ok := strings.CutSuffix(strings.Trim(c.Param("path"), "/"), "/enforcement")
	if !ok || s.Repos == nil || s.Enforcement == nil {
		s.dashboardError(c, patchgate.Errorf(patchgate.ENOTFOUND, "no such page: see /ui/repos"))
		return
	}
	repo, err := s.Repos.Find(patchgate.Forge(c.Param("forge")), name)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	v := &enforcementView{pageView: pageView{Title: "Forge enforcement of " + repo.Name, Nav: "repos"}, Repo: repo, Branch: c.Query("branch")}
	v.E, err = s.Enforcement.Check(c.Request.Context(), repo.Forge, repo.Name, v.Branch)
	if err != nil {
		if patchgate.ErrorCode(err) == patchgate.EINTERNAL {
			s.Logger.Error("read forge enforcement", "repo", repo.Ref().String(), "err", err, "request_id", c.GetString(requestIDKey))
		}
		v.Error = "patchgate could not read the forge's settings: " + patchgate.ErrorMessage(err) +
			". Check the token's permissions (GitHub's branch protection needs admin rights) and reload."
		s.render(c, http.StatusBadGateway, "enforcement", v)
		return
	}
	for _, g := range v.E.Gaps {
		if g.AppOnly {
			v.AppOnly++
		}
	}
	s.render(c, http.StatusOK, "enforcement", v)
}
