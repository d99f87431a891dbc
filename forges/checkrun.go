package forges

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

var _ patchgate.CheckRunPoster = (*GitHub)(nil)

// checkRunIDs remembers the check run made for each (repository, commit,
// name, external id), so that an update does not have to list the commit's
// runs first. It is only a cache: a miss lists them.
type checkRunIDs struct {
	mu  sync.Mutex
	ids map[string]int64
}

func (c *checkRunIDs) get(key string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[key]
	return id, ok
}

func (c *checkRunIDs) put(key string, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[string]int64{}
	}
	// Bounded: one entry per check run of the process's recent work; a
	// cleared cache costs one list per run.
	if len(c.ids) >= 10_000 {
		clear(c.ids)
	}
	c.ids[key] = id
}

// checkRunStatus maps a status state onto a check run's status and conclusion.
// An infrastructure error is a failure to GitHub: the verdict is unknown, and
// a required check must not pass on it.
func checkRunStatus(s patchgate.StatusState) (status, conclusion string) {
	switch s {
	case patchgate.StatusPending:
		return "queued", ""
	case patchgate.StatusRunning:
		return "in_progress", ""
	case patchgate.StatusSuccess:
		return "completed", "success"
	case patchgate.StatusCanceled:
		return "completed", "cancelled"
	}
	return "completed", "failure"
}

// rerunAction is the "Re-run" button (GitHub: label ≤ 20, description ≤ 40,
// identifier ≤ 20 characters).
var rerunAction = &github.CheckRunAction{Label: "Re-run", Identifier: patchgate.CheckActionRerun,
	Description: "Verify this commit again (maintainers)"}

// PostCheckRun implements patchgate.CheckRunPoster: the check run named
// run.Name with external id run.ExternalID on sha is created the first time
// and updated afterwards; annotations go 50 per request, the first batch
// with the create or update, the rest in further updates (GitHub appends
// them). Only App mode can write check runs: EFORBIDDEN with a token.
func (g *GitHub) PostCheckRun(ctx context.Context, repo patchgate.RepoRef, sha string, run patchgate.CheckRun) error {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return err
	}
	if err := checkSHA(sha); err != nil {
		return err
	}
	if run.Name == "" {
		return patchgate.Errorf(patchgate.EINVALID, "check run name required")
	}
	if err := run.State.Validate(); err != nil {
		return err
	}
	if g.app == nil {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "check run %s on %s: only a GitHub App may write check runs; set github.app_id and github.private_key_file", run.Name, repo)
	}
	owner, name := ownerName(repo)
	action := "post check run " + run.Name + " on " + repo.String() + "@" + sha
	key := repo.String() + "@" + sha + "/" + run.Name + "/" + run.ExternalID
	id, known := g.checkRuns.get(key)
	if !known {
		var err error
		if id, err = g.findCheckRun(ctx, owner, name, sha, run); err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
	}
	status, conclusion := checkRunStatus(run.State)
	title := patchgate.TruncateStatusDescription(run.Title)
	if title == "" {
		title = string(run.State)
	}
	summary := run.Summary
	if summary == "" {
		summary = patchgate.CheckSummary(run.State, run.Title, run.DetailsURL)
	}
	batches := annotationBatches(run.Annotations)
	output := func(batch []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: &title, Summary: &summary, Annotations: batch}
	}
	var actions []*github.CheckRunAction
	if run.Rerun {
		actions = []*github.CheckRunAction{rerunAction}
	}
	var completed *github.Timestamp
	if conclusion != "" {
		completed = &github.Timestamp{Time: time.Now()}
	}
	if id == 0 {
		opts := github.CreateCheckRunOptions{Name: run.Name, HeadSHA: sha, DetailsURL: optional(run.DetailsURL),
			ExternalID: optional(run.ExternalID), Status: &status, Conclusion: optional(conclusion), CompletedAt: completed,
			Output: output(batches[0]), Actions: actions}
		err := g.retry.do(ctx, action, func() (*http.Response, error) {
			cr, resp, err := g.client.Checks.CreateCheckRun(ctx, owner, name, opts)
			if err == nil {
				id = cr.GetID()
			}
			return ghResp(resp), err
		})
		if err != nil {
			return checkRunError(action, err)
		}
		g.checkRuns.put(key, id)
	} else {
		opts := github.UpdateCheckRunOptions{Name: run.Name, DetailsURL: optional(run.DetailsURL), Status: &status,
			Conclusion: optional(conclusion), CompletedAt: completed, Output: output(batches[0]), Actions: actions}
		if err := g.updateCheckRun(ctx, action, owner, name, id, opts); err != nil {
			return err
		}
	}
	for _, batch := range batches[1:] {
		opts := github.UpdateCheckRunOptions{Name: run.Name, Output: output(batch)}
		if err := g.updateCheckRun(ctx, action+" (more annotations)", owner, name, id, opts); err != nil {
			return err
		}
	}
	return nil
}

func (g *GitHub) updateCheckRun(ctx context.Context, action, owner, name string, id int64, opts github.UpdateCheckRunOptions) error {
	err := g.retry.do(ctx, action, func() (*http.Response, error) {
		_, resp, err := g.client.Checks.UpdateCheckRun(ctx, owner, name, id, opts)
		return ghResp(resp), err
	})
	return checkRunError(action, err)
}

// checkRunError words GitHub's 422 for an unknown commit as ENOTFOUND, as
// PostStatus does.
func checkRunError(action string, err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response.StatusCode == http.StatusUnprocessableEntity && strings.Contains(er.Message, "No commit found") {
		return fmt.Errorf("%w (%w)", patchgate.Errorf(patchgate.ENOTFOUND, "%s: no such commit on github", action), er)
	}
	return err
}

// findCheckRun looks for the App's own check run of that name and external
// id on sha (after a restart the cache is empty); 0 when there is none.
func (g *GitHub) findCheckRun(ctx context.Context, owner, name, sha string, run patchgate.CheckRun) (int64, error) {
	opts := &github.ListCheckRunsOptions{CheckName: &run.Name, AppID: &g.app.app.ID, Filter: github.String("all"),
		ListOptions: github.ListOptions{PerPage: 100}}
	var found int64
	err := g.retry.do(ctx, "list check runs "+run.Name+" on "+owner+"/"+name+"@"+sha, func() (*http.Response, error) {
		res, resp, err := g.client.Checks.ListCheckRunsForRef(ctx, owner, name, sha, opts)
		if res == nil {
			return ghResp(resp), err
		}
		for _, cr := range res.CheckRuns {
			if cr.GetApp().GetID() == g.app.app.ID && cr.GetName() == run.Name && cr.GetExternalID() == run.ExternalID {
				found = cr.GetID()
				break
			}
		}
		return ghResp(resp), err
	})
	return found, err
}

// maxAnnotationTitle bounds an annotation's title (GitHub: 255 characters);
// a subtest's name can be longer.
const maxAnnotationTitle = 255

// annotationBatches cuts the annotations into requests of at most
// MaxCheckAnnotationsPerRequest; there is always a first batch, maybe empty.
func annotationBatches(as []patchgate.CheckAnnotation) [][]*github.CheckRunAnnotation {
	batches := [][]*github.CheckRunAnnotation{nil}
	for i, a := range as {
		if i > 0 && i%patchgate.MaxCheckAnnotationsPerRequest == 0 {
			batches = append(batches, nil)
		}
		msg := a.Message
		if msg == "" {
			msg = a.Title
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], &github.CheckRunAnnotation{
			Path: github.String(a.Path), StartLine: github.Int(a.Line), EndLine: github.Int(a.Line),
			AnnotationLevel: github.String("failure"), Message: github.String(msg),
			Title: optional(patchgate.TruncateUTF8Bytes(a.Title, maxAnnotationTitle)),
		})
	}
	return batches
}
