package runners

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestOutbox: a failing send is retried until it succeeds; values handed in
// while a send is in flight collapse into the newest; an error retrying
// cannot fix is not retried; Close gives up what still fails.
func TestOutbox(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	failures := 2
	started, release := make(chan struct{}), make(chan struct{})
	o := &Outbox[string]{Describe: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Backoff: time.Millisecond,
		Send: func(_ context.Context, key, v string) error {
			if v == "first" {
				close(started)
				<-release // in flight while newer values arrive
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case key == "gone":
				sent = append(sent, "gone:"+v)
				return patchgate.Errorf(patchgate.ENOTFOUND, "no such commit")
			case key == "down":
				return errors.New("502 from the forge")
			case failures > 0 && v == "newest":
				failures--
				return errors.New("connection refused")
			}
			sent = append(sent, key+":"+v)
			return nil
		}}
	o.Put("a", "first")
	<-started
	o.Put("a", "second")
	o.Put("a", "newest")
	o.Put("gone", "x")
	close(release)
	o.Wait()
	mu.Lock()
	got := append([]string(nil), sent...)
	mu.Unlock()
	want := map[string]bool{"a:first": true, "a:newest": true, "gone:x": true}
	if len(got) != len(want) {
		t.Fatalf("sent %q, want %v (second overtaken, newest retried twice, gone once)", got, want)
	}
	for _, g := range got {
		if !want[g] {
			t.Fatalf("sent %q, want %v", got, want)
		}
	}
	if failures != 0 {
		t.Fatalf("newest was retried %d times too few", failures)
	}

	o.Put("down", "y")
	time.Sleep(10 * time.Millisecond)
	done := make(chan struct{})
	go func() { o.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not give up a send that keeps failing")
	}
}
