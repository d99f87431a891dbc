// Command patchgate runs the patchgate service and its administration commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/patchgate/patchgate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "patchgate:", err)
		// A refusal's blockers say, each, what to do next.
		printBlockers(os.Stderr, "  ", patchgate.ErrorBlockers(err))
		os.Exit(exitCode(err))
	}
}
