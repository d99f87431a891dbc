package runners

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

const (
	logFlushEvery = 300 * time.Millisecond
	logFlushBytes = 64 << 10
	// logMaxBytes caps a suite's stored log; the rest is counted, not stored.
	logMaxBytes = 32 << 20
)

// logWriter stores a suite's log in chunks as it is produced, so it can be read
// (and followed) while the suite runs. Writes never block on the database: a
// background flusher appends what accumulated every logFlushEvery.
type logWriter struct {
	store patchgate.VerificationService
	id    int64

	mu      sync.Mutex
	buf     []byte
	written int64
	dropped int64
	err     error

	stop chan struct{}
	done chan struct{}
}

func newLogWriter(store patchgate.VerificationService, suiteRunID int64) *logWriter {
	w := &logWriter{store: store, id: suiteRunID, stop: make(chan struct{}), done: make(chan struct{})}
	go w.flusher()
	return w
}

// Write buffers p; it fails only after the store failed.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	room := logMaxBytes - w.written - int64(len(w.buf))
	if int64(len(p)) > room {
		if room > 0 {
			w.buf = append(w.buf, p[:room]...)
		}
		w.dropped += int64(len(p)) - max(room, 0)
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *logWriter) flusher() {
	defer close(w.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.flush()
			return
		case <-t.C:
			w.flush()
		}
	}
}

func (w *logWriter) flush() {
	w.mu.Lock()
	chunk := w.buf
	w.buf = nil
	w.mu.Unlock()
	for len(chunk) > 0 {
		n := min(len(chunk), logFlushBytes)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := w.store.AppendLog(ctx, w.id, chunk[:n])
		cancel()
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
		w.mu.Lock()
		w.written += int64(n)
		w.mu.Unlock()
		chunk = chunk[n:]
	}
}

// Close flushes what is left and notes any truncation in the log itself.
func (w *logWriter) Close() error {
	w.mu.Lock()
	if w.dropped > 0 {
		w.buf = append(w.buf, []byte("\n[patchgate: log truncated; "+strconv.FormatInt(w.dropped, 10)+" more bytes not stored]\n")...)
	}
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
