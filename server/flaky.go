package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/patchgate/patchgate"
)

// maxFlakyWindow bounds ?last= of the flaky-test listing.
const maxFlakyWindow = 1000

// handleRepoPath serves GET /api/v1/repos/:forge/{owner/name…}/flaky and
// …/quarantine: a repository's name may hold slashes (GitLab groups), so the
// route takes the rest of the path and the resource is its last segment.
func (s *Server) handleRepoPath(c *gin.Context) {
	path := strings.TrimPrefix(c.Param("path"), "/")
	repo := func(name string) patchgate.RepoRef {
		return patchgate.RepoRef{Forge: patchgate.Forge(c.Param("forge")), Name: name}
	}
	if name, ok := strings.CutSuffix(path, "/flaky"); ok {
		s.handleFlakyTests(c, repo(name))
		return
	}
	if name, ok := strings.CutSuffix(path, "/quarantine"); ok {
		s.handleListQuarantines(c, repo(name))
		return
	}
	if name, ok := strings.CutSuffix(path, "/enforcement"); ok {
		s.handleEnforcement(c, repo(name))
		return
	}
	s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
}

// handleRepoAdminPath serves the admin's POST …/{owner/name…}/quarantine and
// DELETE …/{owner/name…}/quarantine/{id}, dispatched as handleRepoPath is.
func (s *Server) handleRepoAdminPath(c *gin.Context) {
	path := strings.TrimPrefix(c.Param("path"), "/")
	repo := func(name string) patchgate.RepoRef {
		return patchgate.RepoRef{Forge: patchgate.Forge(c.Param("forge")), Name: name}
	}
	switch c.Request.Method {
	case http.MethodPost:
		if name, ok := strings.CutSuffix(path, "/quarantine"); ok {
			s.handleCreateQuarantine(c, repo(name))
			return
		}
	case http.MethodDelete:
		if i := strings.LastIndex(path, "/quarantine/"); i > 0 {
			s.handleDeleteQuarantine(c, repo(path[:i]), path[i+len("/quarantine/"):])
			return
		}
	}
	s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
}

// handleFlakyTests lists the tests that failed and then passed on a re-run
// in the repository's last ?last= verifications (default 50).
func (s *Server) handleFlakyTests(c *gin.Context, repo patchgate.RepoRef) {
	if err := repo.Validate(); err != nil {
		s.writeError(c, err)
		return
	}
	last, err := intQuery(c, "last", patchgate.DefaultFlakyWindow)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if last == 0 || last > maxFlakyWindow {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "query last: want 1 to %d verifications", maxFlakyWindow))
		return
	}
	if s.FlakyTests == nil {
		s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "this server does not verify"))
		return
	}
	tests, err := s.FlakyTests.FindFlakyTests(c.Request.Context(), repo, last)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"repo": repo.String(), "last": last, "flaky": tests})
}
