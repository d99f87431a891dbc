package server

import (
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// page reads limit and offset; the store caps the limit.
func page(c *gin.Context) (offset, limit int, err error) {
	if offset, err = intQuery(c, "offset", 0); err != nil {
		return 0, 0, err
	}
	limit, err = intQuery(c, "limit", 50)
	return offset, limit, err
}

func intQuery(c *gin.Context, key string, def int) (int, error) {
	v, ok := c.GetQuery(key)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, patchgate.Errorf(patchgate.EINVALID, "query %s: want a non-negative number, got %q", key, v)
	}
	return n, nil
}

// optString returns a pointer to the query value, or nil when absent.
func optString(c *gin.Context, key string) *string {
	if v, ok := c.GetQuery(key); ok && v != "" {
		return &v
	}
	return nil
}

// optID returns a pointer to a positive integer query value, or nil when absent.
func optID(c *gin.Context, key string) (*int64, error) {
	v, ok := c.GetQuery(key)
	if !ok || v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, patchgate.Errorf(patchgate.EINVALID, "query %s: want a positive id, got %q", key, v)
	}
	return &id, nil
}

// pathID reads a positive integer path parameter.
func pathID(c *gin.Context, key string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(key), 10, 64)
	if err != nil || id <= 0 {
		return 0, patchgate.Errorf(patchgate.EINVALID, "%s: want a positive id, got %q", key, c.Param(key))
	}
	return id, nil
}

// optEnum returns a pointer to a query value converted to T after validate.
func optEnum[T ~string](c *gin.Context, key string, validate func(T) error) (*T, error) {
	v := optString(c, key)
	if v == nil {
		return nil, nil
	}
	t := T(*v)
	if validate != nil {
		if err := validate(t); err != nil {
			return nil, err
		}
	}
	return &t, nil
}
