// Package commands orchestrates the patchgate commands people give in forge
// comments: "/patchgate approve" and "/patchgate withdraw" (a release manager
// approves, or withdraws their approval of, the candidate that contains the
// change and was open when they wrote it), "/patchgate ok-to-test" (a
// maintainer vouches for the head the forge reports for the change) and
// "/patchgate retest" (a maintainer, or the change's trusted author, verifies
// its current head again). It checks where a command comes from (a new
// comment, by its own author, as the forge's API has it, acting once), runs it
// through the release gate or verification, and answers it on the change.
package commands

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// ChangeFinder reads stored changes.
type ChangeFinder interface {
	FindChange(ctx context.Context, forge patchgate.Forge, repo, key string) (*patchgate.Change, error)
}

// CandidateFinder reads release candidates.
type CandidateFinder interface {
	FindCandidates(ctx context.Context, filter patchgate.CandidateFilter) ([]*patchgate.Candidate, int, error)
	FindCandidateByID(ctx context.Context, id int64) (*patchgate.Candidate, error)
}

// Approver records and withdraws approvals of candidates (gate.Gate).
type Approver interface {
	Approve(ctx context.Context, id int64, sha string, by patchgate.Principal, via string) (*patchgate.Candidate, *patchgate.Evaluation, error)
	// Withdraw withdraws by's live approval of candidate id: ENOTFOUND when
	// there is none, ECONFLICT once the candidate is promoting or promoted.
	Withdraw(ctx context.Context, id int64, by patchgate.Principal) error
}

// ReleaseGate is the release gate as comment commands use it: its
// candidates, found, and approved through the gate's rules.
type ReleaseGate interface {
	CandidateFinder
	Approver
}

// HeadVerifier verifies a change's head now (verification.Verifier).
type HeadVerifier interface {
	Verify(ctx context.Context, ch *patchgate.Change, trigger string) (*patchgate.Verification, error)
}

// Claims remembers which comments' commands acted, so each acts once.
type Claims interface {
	ClaimCommand(ctx context.Context, c *patchgate.CommentCommand) error
	ReleaseCommand(ctx context.Context, forge patchgate.Forge, repo string, commentID int64) error
}

// People says who may give which command, by forge user id (people.Directory).
type People interface {
	Maintainer(ctx context.Context, repo *patchgate.Repository, userID int64) (bool, error)
	ReleaseManager(ctx context.Context, forge patchgate.Forge, userID int64) (bool, error)
}

// Handler acts on the commands in comments. Set the fields, then use it from
// any number of goroutines.
type Handler struct {
	Changes ChangeFinder
	// Releases find the candidate a comment approves and approve it;
	// without them approvals by comment are refused.
	Releases ReleaseGate
	// Verifier verifies vouched-for heads; nil refuses ok-to-test.
	Verifier HeadVerifier
	// Commands remembers which comments acted; nil refuses every command.
	Commands Claims
	// Commenters answer on the change, one per forge.
	Commenters map[patchgate.Forge]patchgate.Commenter
	// Comments read each command's comment, and the change it is on, back
	// from its forge before it acts; a forge without one refuses every
	// command.
	Comments map[patchgate.Forge]patchgate.CommentReader
	People   People
	Logger   *slog.Logger
}

// CommandCommentMarker identifies patchgate's one answer to comment commands
// on a PR/MR, edited in place with the latest answer.
const CommandCommentMarker = "<!-- patchgate:commands -->"

// ApplyComment acts on a command in a comment on a change, and answers it on
// the change. A command acts only from a newly created comment, sent by the
// comment's own author, that the forge's API has as the delivery says, on
// what it refers to (the candidate open when it was written, the head the
// forge reports), and only once per comment; anything else is refused, and
// the refusal is the delivery's reason and the answer.
func (h *Handler) ApplyComment(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	c := ev.Comment
	var command string
	switch {
	case !c.OnChange:
	case hasCommand(c.Body, patchgate.ApproveComment):
		command = patchgate.ApproveComment
	case hasCommand(c.Body, patchgate.OkToTestComment):
		command = patchgate.OkToTestComment
	case hasCommand(c.Body, patchgate.WithdrawComment):
		command = patchgate.WithdrawComment
	case hasCommand(c.Body, patchgate.RetestComment):
		command = patchgate.RetestComment
	}
	if command == "" {
		return patchgate.OutcomeIgnored, "comment carries no patchgate command", nil
	}
	ch, err := h.Changes.FindChange(ctx, ev.Forge, repo.Name, patchgate.ChangeKey(patchgate.ReviewKind(ev.Forge), c.Number, ""))
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		ch = nil
	} else if err != nil {
		return "", "", err
	}
	answer, acted, err := h.runCommand(ctx, repo, ev, ch, command)
	if err != nil {
		return "", "", err
	}
	target := ch
	if target == nil {
		target = &patchgate.Change{Forge: ev.Forge, Repo: repo.Name, Kind: patchgate.ReviewKind(ev.Forge), Number: c.Number}
	}
	h.answerCommand(ctx, target, ev, command, answer)
	if acted {
		return patchgate.OutcomeProcessed, "", nil
	}
	return patchgate.OutcomeIgnored, answer, nil
}

// runCommand checks where the command comes from and runs it. It returns the
// answer, in words, and whether the command acted.
func (h *Handler) runCommand(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event, ch *patchgate.Change, command string) (string, bool, error) {
	c := ev.Comment
	switch {
	case ev.Action != "created":
		return "ignored: comment was " + ev.Action + ", not created", false, nil
	case c.Edited():
		return "ignored: comment was edited after it was written", false, nil
	case c.Author == "":
		return fmt.Sprintf("ignored: the forge did not say who wrote the comment (it was sent by %s)", orUnknown(ev.Sender)), false, nil
	case !patchgate.SameLogin(ev.Sender, c.Author):
		return fmt.Sprintf("ignored: comment by %s was sent by %s, not by its author", c.Author, orUnknown(ev.Sender)), false, nil
	case ch == nil:
		return "ignored: the change is not known yet", false, nil
	}
	read, answer, err := h.readBack(ctx, repo, ev)
	if answer != "" || err != nil {
		return answer, false, err
	}
	// From here on the command acts on what the forge says, not on the payload.
	back := *ev
	back.Comment = &patchgate.CommentEvent{ID: read.ID, Body: read.Body, Author: read.Author, AuthorID: read.AuthorID, URL: c.URL,
		Number: read.Number, OnChange: c.OnChange, CreatedAt: read.CreatedAt, UpdatedAt: read.UpdatedAt}
	switch command {
	case patchgate.ApproveComment:
		return h.approveByComment(ctx, repo, &back, ch)
	case patchgate.WithdrawComment:
		return h.withdrawByComment(ctx, repo, &back, ch)
	case patchgate.RetestComment:
		return h.retest(ctx, repo, &back, ch)
	}
	return h.okToTest(ctx, repo, &back, ch)
}

// readBack reads the command's comment through the forge's API by its id: a
// signed payload only claims who wrote what (whoever holds the webhook secret
// can sign anything). A comment the forge does not have, or has otherwise, is
// refused; the refusal is logged, and is the delivery's reason and the answer.
func (h *Handler) readBack(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (*patchgate.ForgeComment, string, error) {
	c := ev.Comment
	reader := h.Comments[repo.Forge]
	if reader == nil {
		return nil, fmt.Sprintf("ignored: patchgate cannot read comments back from %s (no API token), so it acts on none", repo.Forge), nil
	}
	read, err := reader.ReadComment(ctx, repo.Ref(), c.Number, c.ID)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		read, err = nil, nil
	} else if err != nil {
		return nil, "", fmt.Errorf("read comment %d back: %w", c.ID, err)
	}
	if reason := patchgate.CommentVouches(c, read); reason != "" {
		h.Logger.Warn("comment command refused: the forge does not vouch for the delivery", "repo", repo.Name,
			"number", c.Number, "comment", c.ID, "claimed_author", c.Author, "sender", ev.Sender, "reason", reason)
		return nil, "ignored: " + reason, nil
	}
	return read, "", nil
}

// approveByComment approves, for a release manager of the forge, the
// candidate that includes the change the comment is on and was open when the
// comment was written (patchgate.CommentTarget), if it is still open.
func (h *Handler) approveByComment(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event, ch *patchgate.Change) (string, bool, error) {
	c := ev.Comment
	if h.Releases == nil {
		return "ignored: releases are not enabled", false, nil
	}
	if ok, err := h.People.ReleaseManager(ctx, repo.Forge, c.AuthorID); err != nil {
		return "", false, err
	} else if !ok {
		return fmt.Sprintf("ignored: %s is not a release manager (forge user id %d)", c.Author, c.AuthorID), false, nil
	}
	full, answer, err := h.target(ctx, repo, c, ch, patchgate.ApproveComment)
	if answer != "" || err != nil {
		return answer, false, err
	}
	claim := &patchgate.CommentCommand{Forge: repo.Forge, Repo: repo.Name, CommentID: c.ID, Command: patchgate.CommandApprove,
		Author: c.Author, Change: ch.Number, SHA: full.SHA}
	if answer, err := h.claim(ctx, claim); answer != "" || err != nil {
		return answer, false, err
	}
	by := patchgate.Principal{Name: c.Author, Role: patchgate.RoleReleaseManager,
		Users: []patchgate.ForgeUser{{Forge: repo.Forge, Login: c.Author, UserID: c.AuthorID}}}
	if _, _, err := h.Releases.Approve(patchgate.NewContextWithPrincipal(ctx, by), full.ID, "", by, "comment"); err != nil {
		// Refusals (not releasable, an author) are the answer, in words;
		// the comment has had its one chance.
		if code := patchgate.ErrorCode(err); code == patchgate.ECONFLICT || code == patchgate.EFORBIDDEN {
			// A refusal with blockers lists them, each with its code and
			// what to do.
			return "ignored: " + patchgate.RefusalMarkdown(err), false, nil
		}
		return "", false, h.unclaim(ctx, claim, err)
	}
	return fmt.Sprintf("approved by %s for %s at %s", c.Author, full.Name, patchgate.ShortSHA(full.SHA)), true, nil
}

// target finds the candidate a release manager's comment acts on: the one
// that includes the change the comment is on and was open when the comment
// was written (patchgate.CommandTarget), if it is still open. Otherwise it
// returns the refusal as the answer.
func (h *Handler) target(ctx context.Context, repo *patchgate.Repository, c *patchgate.CommentEvent, ch *patchgate.Change, command string) (*patchgate.Candidate, string, error) {
	// The comment names no candidate: it acts on the one open when it was
	// written, so the recent candidates of every state are looked at.
	cands, _, err := h.Releases.FindCandidates(ctx, patchgate.CandidateFilter{Forge: &repo.Forge, Repo: &repo.Name, Limit: 20})
	if err != nil {
		return nil, "", err
	}
	var containing []*patchgate.Candidate
	for _, cand := range cands {
		full, err := h.Releases.FindCandidateByID(ctx, cand.ID)
		if err != nil {
			return nil, "", err
		}
		if slices.ContainsFunc(full.Items, func(i *patchgate.CandidateItem) bool { return i.ChangeID == ch.ID }) {
			containing = append(containing, full)
		}
	}
	full, reason := patchgate.CommandTarget(containing, c.CreatedAt, command)
	if full == nil && reason != "" {
		return nil, "ignored: " + reason, nil
	}
	if full == nil {
		return nil, "ignored: no open release candidate contains " + ch.Ref(), nil
	}
	return full, "", nil
}

// withdrawByComment withdraws the commenter's own approval of the candidate
// that includes the change and was open when the comment was written. Only
// the approval of the person the forge says wrote the comment is withdrawn;
// someone without one is told so. Withdrawing makes the gate stricter, so a
// person who approved and has since lost the release-manager role may still
// withdraw.
func (h *Handler) withdrawByComment(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event, ch *patchgate.Change) (string, bool, error) {
	c := ev.Comment
	if h.Releases == nil {
		return "ignored: releases are not enabled", false, nil
	}
	full, answer, err := h.target(ctx, repo, c, ch, patchgate.WithdrawComment)
	if answer != "" || err != nil {
		return answer, false, err
	}
	claim := &patchgate.CommentCommand{Forge: repo.Forge, Repo: repo.Name, CommentID: c.ID, Command: patchgate.CommandWithdraw,
		Author: c.Author, Change: ch.Number, SHA: full.SHA}
	if answer, err := h.claim(ctx, claim); answer != "" || err != nil {
		return answer, false, err
	}
	by := patchgate.Principal{Name: c.Author, Role: patchgate.RoleReleaseManager,
		Users: []patchgate.ForgeUser{{Forge: repo.Forge, Login: c.Author, UserID: c.AuthorID}}}
	if err := h.Releases.Withdraw(patchgate.NewContextWithPrincipal(ctx, by), full.ID, by); err != nil {
		switch patchgate.ErrorCode(err) {
		case patchgate.ENOTFOUND:
			return fmt.Sprintf("ignored: %s has no approval of %s to withdraw", c.Author, full.Name), false, nil
		case patchgate.ECONFLICT, patchgate.EFORBIDDEN:
			// Promotion began meanwhile, or the login names nobody: the
			// comment has had its one chance, as an approval's has.
			return "ignored: " + patchgate.ErrorMessage(err), false, nil
		}
		return "", false, h.unclaim(ctx, claim, err)
	}
	return fmt.Sprintf("approval of %s at %s withdrawn by %s", full.Name, patchgate.ShortSHA(full.SHA), c.Author), true, nil
}

// forgeHead reads the change the comment is on back from the forge: ok-to-test
// and retest bind to the head the forge reports, not to what a webhook
// claimed. It returns the refusal as the answer when the forge has no such
// open change.
func (h *Handler) forgeHead(ctx context.Context, repo *patchgate.Repository, ch *patchgate.Change) (*patchgate.ForgeChange, string, error) {
	fc, err := h.Comments[repo.Forge].ReadChange(ctx, repo.Ref(), ch.Number)
	switch {
	case patchgate.ErrorCode(err) == patchgate.ENOTFOUND:
		return nil, fmt.Sprintf("ignored: %s has no %s (%s)", repo.Forge, ch.Ref(), patchgate.ErrorMessage(err)), nil
	case err != nil:
		return nil, "", fmt.Errorf("read %s back: %w", ch.Ref(), err)
	case !fc.Open:
		return nil, fmt.Sprintf("ignored: %s says %s is not open", repo.Forge, ch.Ref()), nil
	case !patchgate.ValidSHA(fc.HeadSHA):
		return nil, fmt.Sprintf("ignored: %s reports no head commit for %s", repo.Forge, ch.Ref()), nil
	}
	return fc, "", nil
}

// okToTest vouches, for a maintainer, for the head the forge reports for the
// change when patchgate reads the comment, and verifies it; a comment read
// long after it was written (patchgate.StaleVouch) vouches for nothing, since
// the forge's head may be a later push. When patchgate
// knows another head (a push it has not been told of yet, or a webhook that
// claimed another), the vouch is for the forge's head only: it runs when that
// head arrives, and a later push needs a new ok-to-test.
func (h *Handler) okToTest(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event, ch *patchgate.Change) (string, bool, error) {
	c := ev.Comment
	if ok, err := h.People.Maintainer(ctx, repo, c.AuthorID); err != nil {
		return "", false, err
	} else if !ok {
		return fmt.Sprintf("ignored: %s is not a maintainer of %s (forge user id %d)", c.Author, repo.Name, c.AuthorID), false, nil
	}
	if h.Verifier == nil {
		return "ignored: verification is not enabled", false, nil
	}
	if ch.State != patchgate.ChangeOpen || ch.HeadSHA == "" {
		return "ignored: the change is not open", false, nil
	}
	if reason := patchgate.StaleVouch(patchgate.OkToTestComment, c.CreatedAt, time.Now()); reason != "" {
		return "ignored: " + reason, false, nil
	}
	fc, answer, err := h.forgeHead(ctx, repo, ch)
	if answer != "" || err != nil {
		return answer, false, err
	}
	claim := &patchgate.CommentCommand{Forge: repo.Forge, Repo: repo.Name, CommentID: c.ID, Command: patchgate.CommandOkToTest,
		Author: c.Author, Change: ch.Number, SHA: fc.HeadSHA}
	if answer, err := h.claim(ctx, claim); answer != "" || err != nil {
		return answer, false, err
	}
	if fc.HeadSHA != ch.HeadSHA {
		return fmt.Sprintf("ok-to-test by %s vouches for %s, the head %s reports for %s; patchgate knows %s, which it does not run: %s runs when its push arrives",
			c.Author, patchgate.ShortSHA(fc.HeadSHA), repo.Forge, ch.Ref(), patchgate.ShortSHA(ch.HeadSHA), patchgate.ShortSHA(fc.HeadSHA)), true, nil
	}
	if _, err := h.Verifier.Verify(ctx, ch, "ok-to-test by "+c.Author); err != nil {
		return "", false, h.unclaim(ctx, claim, err)
	}
	return fmt.Sprintf("verifying %s: ok-to-test by %s", patchgate.ShortSHA(ch.HeadSHA), c.Author), true, nil
}

// retest verifies the change's current head again, for a maintainer or the
// change's trusted author (patchgate.MayRetest, by the forge's user ids), when
// the forge agrees that it is the current head.
func (h *Handler) retest(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event, ch *patchgate.Change) (string, bool, error) {
	c := ev.Comment
	if h.Verifier == nil {
		return "ignored: verification is not enabled", false, nil
	}
	if ch.State != patchgate.ChangeOpen || ch.HeadSHA == "" {
		return "ignored: the change is not open", false, nil
	}
	fc, answer, err := h.forgeHead(ctx, repo, ch)
	if answer != "" || err != nil {
		return answer, false, err
	}
	maintainer, err := h.People.Maintainer(ctx, repo, c.AuthorID)
	if err != nil {
		return "", false, err
	}
	if reason := patchgate.MayRetest(repo, ch, c.Author, c.AuthorID, fc.AuthorID, maintainer); reason != "" {
		return "ignored: " + reason, false, nil
	}
	if reason := patchgate.StaleVouch(patchgate.RetestComment, c.CreatedAt, time.Now()); reason != "" {
		return "ignored: " + reason, false, nil
	}
	if fc.HeadSHA != ch.HeadSHA {
		return fmt.Sprintf("ignored: %s reports head %s for %s, patchgate knows %s: comment %s again once patchgate has the push",
			repo.Forge, patchgate.ShortSHA(fc.HeadSHA), ch.Ref(), patchgate.ShortSHA(ch.HeadSHA), patchgate.RetestComment), false, nil
	}
	claim := &patchgate.CommentCommand{Forge: repo.Forge, Repo: repo.Name, CommentID: c.ID, Command: patchgate.CommandRetest,
		Author: c.Author, Change: ch.Number, SHA: ch.HeadSHA}
	if answer, err := h.claim(ctx, claim); answer != "" || err != nil {
		return answer, false, err
	}
	v, err := h.Verifier.Verify(ctx, ch, "retest by "+c.Author)
	if err != nil {
		return "", false, h.unclaim(ctx, claim, err)
	}
	return fmt.Sprintf("verifying %s again (verification %d): retest by %s", patchgate.ShortSHA(ch.HeadSHA), v.ID, c.Author), true, nil
}

// claim records that the comment acts now; a comment that already acted gets
// its refusal as the answer.
func (h *Handler) claim(ctx context.Context, c *patchgate.CommentCommand) (string, error) {
	if h.Commands == nil {
		return "ignored: comment commands are not enabled", nil
	}
	err := h.Commands.ClaimCommand(ctx, c)
	if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
		return "ignored: " + patchgate.ErrorMessage(err), nil
	}
	return "", err
}

// unclaim gives the comment its chance back after a failure that will be
// retried, and returns that failure.
func (h *Handler) unclaim(ctx context.Context, c *patchgate.CommentCommand, cause error) error {
	if err := h.Commands.ReleaseCommand(ctx, c.Forge, c.Repo, c.CommentID); err != nil {
		return fmt.Errorf("%w (and the comment's claim was not released: %v)", cause, err)
	}
	return cause
}

// answerCommand puts the answer in patchgate's one command comment on the
// change. A forge error is logged: the answer is also the delivery's reason.
func (h *Handler) answerCommand(ctx context.Context, ch *patchgate.Change, ev *patchgate.Event, command, answer string) {
	cm := h.Commenters[ch.Forge]
	if cm == nil || ch.Kind == patchgate.ChangePush {
		return
	}
	who := ev.Comment.Author
	if who == "" {
		who = orUnknown(ev.Sender)
	}
	link := "a comment"
	if ev.Comment.URL != "" {
		link = "[a comment](" + ev.Comment.URL + ")"
	}
	body := fmt.Sprintf("%s\n**patchgate** read `%s` in %s by %s: %s\n", CommandCommentMarker, command, link, who, answer)
	if err := cm.UpsertComment(ctx, ch, CommandCommentMarker, body); err != nil {
		h.Logger.Warn("command answer not posted", "change", ch.Ref(), "err", err)
	}
}

// orUnknown names a login, or says it is unknown.
func orUnknown(login string) string {
	if login == "" {
		return "an unknown user"
	}
	return login
}

// hasCommand reports whether a line of body is exactly the command.
func hasCommand(body, command string) bool {
	for _, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == command {
			return true
		}
	}
	return false
}
