package tickets

import (
	"strings"

	"github.com/patchgate/patchgate"
)

// Dedupe merges reference lists (a change's title, body and branch) into one with
// each ticket once, in order of first appearance. A "fixes" occurrence wins over
// "relates" and brings its Text, so the link says why it closes the ticket.
func Dedupe(refs ...[]patchgate.Reference) []patchgate.Reference {
	var c collector
	for _, list := range refs {
		for _, r := range list {
			c.add(r)
		}
	}
	return c.refs
}

// collector keeps distinct references in order of first appearance.
type collector struct {
	limit int // 0: unlimited
	refs  []patchgate.Reference
	seen  map[refID]int
}

// refID is a ticket's identity. Forge repository names compare
// case-insensitively, as both forges treat them, so Acme/Pay#1 and acme/pay#1
// are one ticket.
type refID struct {
	tracker patchgate.Tracker
	key     string
}

func (c *collector) add(r patchgate.Reference) {
	id := refID{r.Tracker, r.Key}
	if r.Tracker != patchgate.TrackerExternal {
		id.key = strings.ToLower(r.Key)
	}
	if i, ok := c.seen[id]; ok {
		if r.Kind == patchgate.LinkFixes && c.refs[i].Kind != patchgate.LinkFixes {
			c.refs[i].Kind, c.refs[i].Text = r.Kind, r.Text
		}
		return
	}
	if c.limit > 0 && len(c.refs) >= c.limit {
		return
	}
	if c.seen == nil {
		c.seen = make(map[refID]int)
	}
	c.seen[id] = len(c.refs)
	c.refs = append(c.refs, r)
}
