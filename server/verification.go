package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// Rerunner re-runs the verification of a change's head on request
// (verification.Verifier).
type Rerunner interface {
	Rerun(ctx context.Context, req patchgate.VerifyRequest) (*patchgate.Verification, error)
}

// handleListVerifications serves GET /api/v1/verifications?repo=&sha=&change_id=&state=.
func (s *Server) handleListVerifications(c *gin.Context) {
	var (
		f   patchgate.VerificationFilter
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
	if f.ChangeID, err = optID(c, "change_id"); err != nil {
		s.writeError(c, err)
		return
	}
	f.State, _ = optEnum[patchgate.RunState](c, "state", nil)
	f.Repo, f.SHA = optString(c, "repo"), optString(c, "sha")
	vs, total, err := s.Verifications.FindVerifications(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"verifications": vs, "total": total})
}

// handleGetVerification serves GET /api/v1/verifications/:id with its suites,
// and with ?tests=true each suite's test results.
func (s *Server) handleGetVerification(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	v, err := s.Verifications.FindVerificationByID(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if c.Query("tests") == "true" || c.Query("tests") == "1" {
		// Each suite's test results, so that one call shows what failed.
		for _, sr := range v.Suites {
			if sr.Tests, err = s.Verifications.FindTests(ctx, sr.ID); err != nil {
				s.writeError(c, err)
				return
			}
		}
	}
	proof, err := s.proofOf(ctx, v.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"verification": v, "proof": proof})
}

// proofOf is the verification's fail-to-pass proof, nil when it has none
// (its change fixes no ticket, or the proof has not run yet).
func (s *Server) proofOf(ctx context.Context, id int64) (*patchgate.Proof, error) {
	if s.Proofs == nil {
		return nil, nil
	}
	p, err := s.Proofs.FindProof(ctx, id)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return nil, nil
	}
	return p, err
}

// handleCreateVerification serves POST /api/v1/verifications: a developer
// re-runs the suites of a change's head.
func (s *Server) handleCreateVerification(c *gin.Context) {
	var req patchgate.VerifyRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	v, err := s.Rerunner.Rerun(c.Request.Context(), req)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"verification": v})
}

// suiteRun finds the named suite of the verification in the path.
func (s *Server) suiteRun(c *gin.Context) (*patchgate.SuiteRun, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	v, err := s.Verifications.FindVerificationByID(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	for _, sr := range v.Suites {
		if sr.Name == c.Param("suite") {
			return sr, nil
		}
	}
	return nil, patchgate.Errorf(patchgate.ENOTFOUND, "verification %d has no suite %q", id, c.Param("suite"))
}

// handleSuiteTests serves GET /api/v1/verifications/:id/suites/:suite/tests.
func (s *Server) handleSuiteTests(c *gin.Context) {
	sr, err := s.suiteRun(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	tests, err := s.Verifications.FindTests(c.Request.Context(), sr.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"suite": sr, "tests": tests})
}

// handleSuiteLog serves GET /api/v1/verifications/:id/suites/:suite/log as plain
// text from ?offset=; with ?follow=true it keeps streaming until the suite is
// final. X-Log-Offset says where the text ends, for resuming.
func (s *Server) handleSuiteLog(c *gin.Context) {
	sr, err := s.suiteRun(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	offset, err := intQuery(c, "offset", 0)
	if err != nil {
		s.writeError(c, err)
		return
	}
	follow := c.Query("follow") == "true" || c.Query("follow") == "1"
	ctx := c.Request.Context()
	data, final, err := s.Verifications.ReadLog(ctx, sr.ID, int64(offset))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.Header("X-Content-Type-Options", "nosniff")
	if !follow {
		c.Header("X-Log-Offset", strconv.Itoa(offset+len(data)))
		c.Header("X-Log-Final", strconv.FormatBool(final))
		c.Status(http.StatusOK)
		_, _ = c.Writer.Write(data)
		return
	}
	c.Status(http.StatusOK)
	pos := int64(offset)
	for {
		if len(data) > 0 {
			if _, err := c.Writer.Write(data); err != nil {
				return
			}
			c.Writer.Flush()
			pos += int64(len(data))
		}
		if final {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
		if data, final, err = s.Verifications.ReadLog(ctx, sr.ID, pos); err != nil {
			_, _ = fmt.Fprintf(c.Writer, "\n[patchgate: log unavailable: %s]\n", patchgate.ErrorMessage(err))
			return
		}
	}
}
