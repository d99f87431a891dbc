package gate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/patchgate/patchgate"
)

// Publisher makes a promotion public: the tag and release on the forge, a
// comment on each released change, and the announcement (the release
// webhook, the trackers).
type Publisher struct {
	// Releasers publish tags and releases, per forge.
	Releasers map[patchgate.Forge]patchgate.Releaser
	// Commenters tell the released changes, per forge.
	Commenters map[patchgate.Forge]patchgate.Commenter
	// Announcer, when set, is told every promotion.
	Announcer Announcer
	Logger    *slog.Logger
}

var _ ReleasePublisher = (*Publisher)(nil)

// Publish tags c's SHA and publishes its release with the notes; publishing
// the same tag again returns the existing release, so a retried promotion
// never makes a second one.
func (p *Publisher) Publish(ctx context.Context, c *patchgate.Candidate) (*patchgate.ForgeRelease, error) {
	releaser := p.Releasers[c.Forge]
	if releaser == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", c.Forge)
	}
	rel, err := releaser.PublishRelease(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, patchgate.ForgeRelease{
		Tag: c.Name, SHA: c.SHA, Name: c.Name, Notes: ReleaseNotes(c),
	})
	if err != nil {
		return nil, fmt.Errorf("publish %s at %s (promotion stays in progress; retry to finish it): %w", c.Name, patchgate.ShortSHA(c.SHA), err)
	}
	return rel, nil
}

// Released tells each change c released, once, and announces the promotion.
// A comment that cannot be posted is logged; the promotion stands.
func (p *Publisher) Released(ctx context.Context, c *patchgate.Candidate, rel *patchgate.ForgeRelease) {
	seen := map[int64]bool{}
	for _, item := range c.Items {
		if item.Change != nil && !seen[item.ChangeID] {
			seen[item.ChangeID] = true
			if cm := p.Commenters[item.Change.Forge]; cm != nil {
				body := fmt.Sprintf("Released in **%s** (%s) at `%s`.", c.Name, rel.URL, patchgate.ShortSHA(c.SHA))
				if err := cm.UpsertComment(ctx, item.Change, "<!-- patchgate:release -->", body); err != nil {
					p.logger().Warn("release comment not posted", "change", item.Change.Ref(), "err", err)
				}
			}
		}
	}
	if p.Announcer != nil {
		p.Announcer.Announce(ctx, c, rel)
	}
}

func (p *Publisher) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}
