package queue_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/queue"
	"github.com/patchgate/patchgate/store"
)

// newSQLiteQueue opens a queue on a fresh SQLite file with handler as worker.
func newSQLiteQueue(t *testing.T, workers int, handler queue.Handler) *queue.Queue {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	pool, err := db.OpenRiverPool()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	q, err := queue.NewSQLite(pool, queue.Config{
		Workers: workers, JobTimeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx, handler); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return q
}

func TestEnqueueRunsOncePerAttempt(t *testing.T) {
	var mu sync.Mutex
	runs := map[[2]int64]int{}
	done := make(chan struct{}, 10)
	q := newSQLiteQueue(t, 2, queue.HandlerFunc(func(ctx context.Context, id int64, attempt int) error {
		mu.Lock()
		runs[[2]int64{id, int64(attempt)}]++
		mu.Unlock()
		done <- struct{}{}
		return nil
	}))
	ctx := context.Background()
	v := &patchgate.Verification{ID: 7, Attempt: 1}
	for range 3 {
		if err := q.Enqueue(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Enqueue(ctx, &patchgate.Verification{ID: 7, Attempt: 2}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("jobs did not run")
		}
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would have run by now
	mu.Lock()
	defer mu.Unlock()
	if runs[[2]int64{7, 1}] != 1 || runs[[2]int64{7, 2}] != 1 {
		t.Fatalf("got runs %v, want attempt 1 and 2 once each", runs)
	}
}

func TestCancelStopsARunningJob(t *testing.T) {
	started := make(chan struct{})
	stopped := make(chan error, 1)
	q := newSQLiteQueue(t, 1, queue.HandlerFunc(func(ctx context.Context, id int64, attempt int) error {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return ctx.Err()
	}))
	ctx := context.Background()
	if err := q.Enqueue(ctx, &patchgate.Verification{ID: 1, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("job did not start")
	}
	if err := q.Cancel(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatal("got a nil context error, want cancelled")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cancel did not reach the running job")
	}
}

func TestCancelQueuedJobNeverRuns(t *testing.T) {
	release := make(chan struct{})
	blocking := make(chan struct{})
	ran := make(chan int64, 4)
	q := newSQLiteQueue(t, 1, queue.HandlerFunc(func(ctx context.Context, id int64, attempt int) error {
		if id == 99 {
			close(blocking)
			<-release
		}
		ran <- id
		return nil
	}))
	ctx := context.Background()
	if err := q.Enqueue(ctx, &patchgate.Verification{ID: 99, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	<-blocking // the only worker is busy: the next jobs wait in the queue
	for id := int64(1); id <= 2; id++ {
		if err := q.Enqueue(ctx, &patchgate.Verification{ID: id, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Cancel(ctx, 1); err != nil {
		t.Fatal(err)
	}
	close(release)
	got := map[int64]bool{}
	deadline := time.After(20 * time.Second)
	for !got[2] {
		select {
		case id := <-ran:
			got[id] = true
		case <-deadline:
			t.Fatalf("got runs %v, want 99 and 2", got)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if got[1] || len(ran) > 0 && <-ran == 1 {
		t.Fatal("the cancelled queued job ran")
	}
}
