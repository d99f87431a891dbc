package patchgate_test

import (
	"errors"
	"fmt"
)

func fmtWrap(err error) error { return fmt.Errorf("find ticket: %w", err) }

func errPlain(s string) error { return errors.New(s) }
