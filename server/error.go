package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// statusOf maps every error code to its one HTTP status.
var statusOf = map[string]int{
	patchgate.EINVALID:       http.StatusBadRequest,
	patchgate.EUNAUTHORIZED:  http.StatusUnauthorized,
	patchgate.EFORBIDDEN:     http.StatusForbidden,
	patchgate.ENOTFOUND:      http.StatusNotFound,
	patchgate.ECONFLICT:      http.StatusConflict,
	patchgate.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	patchgate.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	patchgate.EUNAVAILABLE:   http.StatusServiceUnavailable,
	patchgate.EINTERNAL:      http.StatusInternalServerError,
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		// Blockers are a refusal's reasons with codes and next actions.
		Blockers []patchgate.Blocker `json:"blockers,omitempty"`
	} `json:"error"`
}

// writeError renders err as {"error":{"code","message"}}. Internal errors are
// logged here, once, and shown only as "internal error".
func (s *Server) writeError(c *gin.Context, err error) {
	code := patchgate.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == patchgate.EINTERNAL {
		s.Logger.Error("request failed", "err", err, "method", c.Request.Method,
			"path", c.FullPath(), "request_id", c.GetString(requestIDKey))
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Blockers = code, patchgate.ErrorMessage(err), patchgate.ErrorBlockers(err)
	c.AbortWithStatusJSON(status, body)
}

func (s *Server) writeErrorStatus(c *gin.Context, status int, code, message string) {
	var body errorBody
	body.Error.Code, body.Error.Message = code, message
	c.AbortWithStatusJSON(status, body)
}
