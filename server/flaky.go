package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/patchgate/patchgate"
)

// maxFlakyWindow bounds ?last= of the flaky-test listing.
const maxFlakyWindow = 1000

// handleRepoPath serves GET /api/v1/repos/:forge/{owner/name…}/flaky: a
// repository's name may hold slashes (GitLab groups), so the route takes the
// rest of the path and the resource is its last segment.
func (s *Server) handleRepoPath(c *gin.Context) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(c.Param("path"), "/"), "/flaky")
	if !ok {
		s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
		return
	}
	s.handleFlakyTests(c, patchgate.RepoRef{Forge: patchgate.Forge(c.Param("forge")), Name: name})
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
