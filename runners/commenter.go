package runners

import (
	"context"
	"log/slog"
	"sync"

	"github.com/patchgate/patchgate"
)

// Commenter keeps patchgate's comments on changes through an Outbox, so that
// the delivery path never waits for the forge: UpsertComment returns at once,
// the newest body per (change, marker) is written when the forge answers, and
// a body overtaken before it was written is never written.
type Commenter struct {
	Forge  patchgate.Commenter
	Logger *slog.Logger

	once   sync.Once
	outbox *Outbox[commentPost]
}

var _ patchgate.Commenter = (*Commenter)(nil)

type commentPost struct {
	change       patchgate.Change
	marker, body string
}

func (c *Commenter) box() *Outbox[commentPost] {
	c.once.Do(func() {
		c.outbox = &Outbox[commentPost]{Describe: "comment", Logger: c.Logger,
			Send: func(ctx context.Context, _ string, p commentPost) error {
				return c.Forge.UpsertComment(ctx, &p.change, p.marker, p.body)
			}}
	})
	return c.outbox
}

// UpsertComment queues body as the change's comment with marker and returns
// nil; failures are logged and retried in the background. A push has no
// comments: that is EINVALID at once, as for the forge's own Commenter.
func (c *Commenter) UpsertComment(ctx context.Context, ch *patchgate.Change, marker, body string) error {
	if ch.Kind == patchgate.ChangePush {
		return patchgate.Errorf(patchgate.EINVALID, "%s is a branch: there is nothing to comment on", ch.Ref())
	}
	c.box().Put(string(ch.Forge)+":"+ch.Repo+"/"+ch.Key()+"/"+marker, commentPost{change: *ch, marker: marker, body: body})
	return nil
}

// Wait waits until every comment handed in was written or given up.
func (c *Commenter) Wait() { c.box().Wait() }

// Close stops retrying and waits for the writes in flight; call it at
// shutdown.
func (c *Commenter) Close() { c.box().Close() }
