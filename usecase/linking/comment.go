package linking

import (
	"context"
	"fmt"
	"strings"

	"github.com/patchgate/patchgate"
)

// LinkCommentMarker identifies patchgate's link comment on a PR/MR, so it is
// edited in place instead of posted again.
const LinkCommentMarker = "<!-- patchgate:links -->"

// comment brings patchgate's one link comment on ch up to date. A forge error is
// logged, not returned: the links are stored, and the next event retries.
func (l *Linker) comment(ctx context.Context, ch *patchgate.Change) {
	if ch.Kind == patchgate.ChangePush {
		return
	}
	commenter := l.Commenters[ch.Forge]
	if commenter == nil {
		return
	}
	links, err := l.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID, Limit: 500})
	if err != nil {
		l.Logger.Warn("link comment not updated", "change", ch.Ref(), "err", err)
		return
	}
	if err := commenter.UpsertComment(ctx, ch, LinkCommentMarker, LinkComment(ch, links)); err != nil {
		l.Logger.Warn("link comment not updated", "change", ch.Ref(), "err", err)
	}
}

// LinkComment renders the comment that tells a PR/MR's readers which tickets
// patchgate linked and why.
func LinkComment(ch *patchgate.Change, links []*patchgate.Link) string {
	noun := "pull request"
	if ch.Kind == patchgate.ChangeMergeRequest {
		noun = "merge request"
	}
	var b strings.Builder
	b.WriteString(LinkCommentMarker + "\n")
	if len(links) == 0 {
		fmt.Fprintf(&b, "**patchgate** has no tickets linked to this %s any more.\n", noun)
		return b.String()
	}
	fmt.Fprintf(&b, "**patchgate** linked this %s to:\n\n| ticket | link | why |\n|---|---|---|\n", noun)
	for _, l := range links {
		key := fmt.Sprintf("`%d`", l.TicketID)
		if l.Ticket != nil {
			key = l.Ticket.Key
			if l.Ticket.URL != "" {
				key = fmt.Sprintf("[%s](%s)", l.Ticket.Key, l.Ticket.URL)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", key, l.Kind, why(l))
	}
	b.WriteString("\nA ticket marked **fixes** counts as fixed only after its suites pass on this change's exact head commit. ")
	b.WriteString("Link or unlink by hand with `patchgate link` or the API.\n")
	return b.String()
}

// why says in words where a link came from.
func why(l *patchgate.Link) string {
	quote := "`" + strings.NewReplacer("`", "'", "|", "\\|", "\n", " ").Replace(truncate(l.Provenance, 80)) + "`"
	switch l.Source {
	case patchgate.SourceTitle:
		return "title mentions " + quote
	case patchgate.SourceBody:
		return "description says " + quote
	case patchgate.SourceBranch:
		return "branch name contains " + quote
	case patchgate.SourceCommitMessage:
		return fmt.Sprintf("commit %s says %s", patchgate.ShortSHA(l.CommitSHA), quote)
	case patchgate.SourceManual:
		return "linked by hand by " + strings.ReplaceAll(l.CreatedBy, "|", "\\|")
	}
	return string(l.Source)
}

// truncate cuts s to n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
