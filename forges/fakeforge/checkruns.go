package fakeforge

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RecordedCheckRun is one check run as the fake holds it, annotations of all
// requests appended in order.
type RecordedCheckRun struct {
	ID          int64
	AppID       int64
	Name        string
	HeadSHA     string
	ExternalID  string
	Status      string // queued, in_progress, completed
	Conclusion  string
	DetailsURL  string
	Title       string
	Summary     string
	Annotations []RecordedAnnotation
	Actions     []CheckRunAction
	// Requests counts the creates and updates that changed it.
	Requests int
	At       time.Time
}

// RecordedAnnotation is one annotation of a check run.
type RecordedAnnotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
}

// CheckRunAction is a requested-action button of a check run.
type CheckRunAction struct {
	Label       string `json:"label"`
	Identifier  string `json:"identifier"`
	Description string `json:"description"`
}

// CheckRuns returns the check runs on sha in repoName, oldest first.
func (f *Forge) CheckRuns(repoName, sha string) []RecordedCheckRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []RecordedCheckRun
	for _, c := range f.checkRuns {
		if strings.EqualFold(c.repo, repoName) && c.run.HeadSHA == sha {
			run := c.run
			run.Annotations = slices.Clone(run.Annotations)
			out = append(out, run)
		}
	}
	return out
}

// AddForeignCheckRun records a check run of another App (appID) on sha, as
// someone else's CI would make: patchgate must not take it for its own.
func (f *Forge) AddForeignCheckRun(repoName, sha, name string, appID int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.checkRuns = append(f.checkRuns, &checkRun{repo: repoName, run: RecordedCheckRun{ID: id, AppID: appID, Name: name, HeadSHA: sha, Status: "completed", Conclusion: "success", At: now()}})
	return id
}

type checkRun struct {
	repo string
	run  RecordedCheckRun
}

type checkRunInput struct {
	Name       *string `json:"name"`
	HeadSHA    string  `json:"head_sha"`
	ExternalID *string `json:"external_id"`
	Status     *string `json:"status"`
	Conclusion *string `json:"conclusion"`
	DetailsURL *string `json:"details_url"`
	Output     *struct {
		Title       *string              `json:"title"`
		Summary     *string              `json:"summary"`
		Annotations []RecordedAnnotation `json:"annotations"`
	} `json:"output"`
	Actions []CheckRunAction `json:"actions"`
}

func (f *Forge) checkRunRoutes(gh func(string, http.HandlerFunc)) {
	gh("POST /repos/{owner}/{repo}/check-runs", f.ghCreateCheckRun)
	gh("PATCH /repos/{owner}/{repo}/check-runs/{id}", f.ghUpdateCheckRun)
	gh("GET /repos/{owner}/{repo}/check-runs/{id}", f.ghGetCheckRun)
	gh("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", f.ghListCheckRuns)
}

// checkRunWriter returns the App the request writes as, answering 403 as
// GitHub does when a token that is not an installation token tries. f.mu is
// held.
func (f *Forge) checkRunWriter(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if _, ok := f.installationOf(r); !ok {
		writeJSON(w, http.StatusForbidden, ghError("You must authenticate via a GitHub App."))
		return 0, false
	}
	return f.app.id, true
}

// validateCheckRun applies GitHub's limits: at most 50 annotations per
// request, each with path, lines, level and message; at most 3 actions with
// label ≤ 20, description ≤ 40, identifier ≤ 20 characters; a summary of at
// most 65535 characters; a conclusion when completed.
func validateCheckRun(in *checkRunInput, completed bool) (string, bool) {
	if in.Output != nil {
		if len(in.Output.Annotations) > 50 {
			return "annotations", false
		}
		for _, a := range in.Output.Annotations {
			switch a.AnnotationLevel {
			case "notice", "warning", "failure":
			default:
				return "annotation_level", false
			}
			if a.Path == "" || a.StartLine <= 0 || a.EndLine < a.StartLine || a.Message == "" {
				return "annotations", false
			}
		}
		if in.Output.Summary != nil && utf8.RuneCountInString(*in.Output.Summary) > 65535 {
			return "summary", false
		}
		if in.Output.Title == nil || in.Output.Summary == nil {
			return "output", false
		}
	}
	if len(in.Actions) > 3 {
		return "actions", false
	}
	for _, a := range in.Actions {
		if a.Label == "" || utf8.RuneCountInString(a.Label) > 20 || utf8.RuneCountInString(a.Description) > 40 ||
			a.Identifier == "" || utf8.RuneCountInString(a.Identifier) > 20 {
			return "actions", false
		}
	}
	if in.Status != nil {
		switch *in.Status {
		case "queued", "in_progress", "completed":
		default:
			return "status", false
		}
	}
	if completed && (in.Conclusion == nil || *in.Conclusion == "") {
		return "conclusion", false
	}
	if in.Conclusion != nil {
		switch *in.Conclusion {
		case "action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out":
		default:
			return "conclusion", false
		}
	}
	return "", true
}

// apply writes in onto run; annotations append, as GitHub's do.
func (in *checkRunInput) apply(run *RecordedCheckRun) {
	if in.Name != nil {
		run.Name = *in.Name
	}
	if in.Status != nil {
		run.Status = *in.Status
	}
	if in.Conclusion != nil {
		run.Conclusion, run.Status = *in.Conclusion, "completed"
	}
	if in.DetailsURL != nil {
		run.DetailsURL = *in.DetailsURL
	}
	if in.ExternalID != nil {
		run.ExternalID = *in.ExternalID
	}
	if in.Output != nil {
		run.Title, run.Summary = *in.Output.Title, *in.Output.Summary
		run.Annotations = append(run.Annotations, in.Output.Annotations...)
	}
	if in.Actions != nil {
		run.Actions = in.Actions
	}
	run.Requests++
	run.At = now()
}

func (f *Forge) ghCreateCheckRun(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	appID, ok := f.checkRunWriter(w, r)
	if !ok {
		return
	}
	var in checkRunInput
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	if in.Name == nil || *in.Name == "" {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("CheckRun", "name", "missing_field"))
		return
	}
	if rp.commits[in.HeadSHA] == nil {
		writeJSON(w, http.StatusUnprocessableEntity, ghError("No commit found for SHA: "+in.HeadSHA))
		return
	}
	completed := in.Status != nil && *in.Status == "completed"
	if field, ok := validateCheckRun(&in, completed); !ok {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("CheckRun", field, "invalid"))
		return
	}
	c := &checkRun{repo: rp.name, run: RecordedCheckRun{ID: f.id(), AppID: appID, HeadSHA: in.HeadSHA, Status: "queued"}}
	in.apply(&c.run)
	f.checkRuns = append(f.checkRuns, c)
	writeJSON(w, http.StatusCreated, ghCheckRun(c))
}

// checkRunOf finds the check run of the request, answering 404. f.mu is held.
func (f *Forge) checkRunOf(w http.ResponseWriter, r *http.Request, rp *repo) *checkRun {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, c := range f.checkRuns {
		if c.run.ID == id && strings.EqualFold(c.repo, rp.name) {
			return c
		}
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
	return nil
}

func (f *Forge) ghUpdateCheckRun(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	appID, ok := f.checkRunWriter(w, r)
	if !ok {
		return
	}
	c := f.checkRunOf(w, r, rp)
	if c == nil {
		return
	}
	if c.run.AppID != appID {
		writeJSON(w, http.StatusForbidden, ghError("Invalid app_id `"+strconv.FormatInt(appID, 10)+"` - check run can only be modified by app_id `"+strconv.FormatInt(c.run.AppID, 10)+"`."))
		return
	}
	var in checkRunInput
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	completed := in.Status != nil && *in.Status == "completed" && c.run.Conclusion == ""
	if field, ok := validateCheckRun(&in, completed); !ok {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("CheckRun", field, "invalid"))
		return
	}
	in.apply(&c.run)
	writeJSON(w, http.StatusOK, ghCheckRun(c))
}

func (f *Forge) ghGetCheckRun(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	if c := f.checkRunOf(w, r, rp); c != nil {
		writeJSON(w, http.StatusOK, ghCheckRun(c))
	}
}

func (f *Forge) ghListCheckRuns(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	sha := r.PathValue("ref")
	if c := rp.commits[sha]; c == nil {
		if b, ok := rp.branches[sha]; ok {
			sha = b
		}
	}
	name, appID := r.URL.Query().Get("check_name"), r.URL.Query().Get("app_id")
	var runs []map[string]any
	for _, c := range slices.Backward(f.checkRuns) {
		if strings.EqualFold(c.repo, rp.name) && c.run.HeadSHA == sha && (name == "" || c.run.Name == name) &&
			(appID == "" || appID == strconv.FormatInt(c.run.AppID, 10)) {
			runs = append(runs, ghCheckRun(c))
		}
	}
	lo, hi := paginate(w, r, len(runs), 30, 100)
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": append([]map[string]any{}, runs[lo:hi]...)})
}

// ghCheckRun is GitHub's check run object.
func ghCheckRun(c *checkRun) map[string]any {
	run := c.run
	var conclusion any
	if run.Conclusion != "" {
		conclusion = run.Conclusion
	}
	return map[string]any{
		"id": run.ID, "name": run.Name, "head_sha": run.HeadSHA, "status": run.Status, "conclusion": conclusion,
		"details_url": run.DetailsURL, "external_id": run.ExternalID,
		"app": map[string]any{"id": run.AppID},
		"output": map[string]any{"title": run.Title, "summary": run.Summary,
			"annotations_count": len(run.Annotations)},
	}
}
