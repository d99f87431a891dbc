package runners

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// Outbox sends values to a forge in the background, so that a slow or failing
// forge never holds up the work that produces them. Per key it runs one send
// at a time and sends only the newest value handed in meanwhile (a status or a
// comment overtaken before it was sent is never sent); a send that fails is
// retried with backoff until it succeeds, a newer value replaces it, the error
// is one that retrying cannot fix (not found, invalid), or the outbox is closed.
type Outbox[V any] struct {
	// Send delivers v for key; it is called from the outbox's goroutines.
	Send func(ctx context.Context, key string, v V) error
	// Describe names what a key's value is, for logs ("status", "comment").
	Describe string
	Logger   *slog.Logger
	// Backoff is the first wait after a failure (default 1s), doubled up to
	// MaxBackoff (default 1m).
	Backoff, MaxBackoff time.Duration

	mu      sync.Mutex
	pending map[string]*V // newest unsent value per key; a key present has a sender
	wg      sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
}

// Put hands v to the outbox for key and returns at once.
func (o *Outbox[V]) Put(key string, v V) {
	o.mu.Lock()
	if o.pending == nil {
		o.pending = map[string]*V{}
		o.stop = make(chan struct{})
	}
	_, busy := o.pending[key]
	o.pending[key] = &v
	o.mu.Unlock()
	if !busy {
		o.wg.Go(func() { o.drain(key) })
	}
}

// drain sends key's newest value until none is left.
func (o *Outbox[V]) drain(key string) {
	first := o.Backoff
	if first <= 0 {
		first = time.Second
	}
	backoff := first
	maxBackoff := o.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = time.Minute
	}
	var retry *V
	for {
		o.mu.Lock()
		next := o.pending[key]
		if next == nil {
			next = retry
		}
		if next == nil {
			delete(o.pending, key)
			o.mu.Unlock()
			return
		}
		o.pending[key] = nil
		o.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := o.Send(ctx, key, *next)
		cancel()
		retry = nil
		if err == nil {
			backoff = first
			continue
		}
		switch patchgate.ErrorCode(err) {
		case patchgate.ENOTFOUND, patchgate.EINVALID, patchgate.EFORBIDDEN, patchgate.EUNAUTHORIZED:
			o.Logger.Warn(o.Describe+" not sent", "key", key, "err", err)
			continue
		}
		o.Logger.Warn(o.Describe+" not sent; will retry", "key", key, "retry_in", backoff, "err", err)
		select {
		case <-o.stopped():
			o.Logger.Warn(o.Describe+" given up at shutdown", "key", key)
			o.mu.Lock()
			delete(o.pending, key)
			o.mu.Unlock()
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		retry = next // unless a newer value came meanwhile
	}
}

func (o *Outbox[V]) stopped() chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stop == nil {
		o.stop = make(chan struct{})
	}
	return o.stop
}

// Wait waits until every value handed in was sent or given up.
func (o *Outbox[V]) Wait() { o.wg.Wait() }

// Close stops retrying failed sends and waits for the sends in flight: values
// still failing are given up, and logged.
func (o *Outbox[V]) Close() {
	o.once.Do(func() { close(o.stopped()) })
	o.wg.Wait()
}
