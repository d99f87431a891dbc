package patchgate

import "time"

// EventKind is the kind of forge event patchgate acts on, whatever the forge.
type EventKind string

// Event kinds.
const (
	EventChange  EventKind = "change"  // pull_request / Merge Request Hook
	EventPush    EventKind = "push"    // push / Push Hook
	EventIssue   EventKind = "issue"   // issues / Issue Hook
	EventComment EventKind = "comment" // issue_comment / Note Hook
	// EventCheckAction is a button pressed on one of patchgate's check runs
	// (GitHub check_run, action requested_action).
	EventCheckAction EventKind = "check_action"
	// EventDeployment asks whether a deployment may proceed
	// (deployment_protection_rule / Deployment Hook).
	EventDeployment EventKind = "deployment"
	// EventStatusCheck asks for a merge request's external status check.
	EventStatusCheck EventKind = "status_check"
)

// Event is one delivery, parsed and normalised by its source's adapter
// (webhooks for the forges, trackers/jira for Jira). Exactly one of Change,
// Push, Issue, Comment is set, matching Kind.
type Event struct {
	// Source is where the delivery came from; the processor hands a tracker's
	// events to the tracker use case and a forge's to the forge ones.
	Source DeliverySource `json:"source"`
	// Forge is the forge of a forge's event; empty for a tracker's.
	Forge Forge     `json:"forge"`
	Kind  EventKind `json:"kind"`
	// Name is the forge's event name ("pull_request", "Merge Request Hook").
	Name string `json:"name"`
	// Action is normalised: opened, reopened, edited, synchronize, closed, merged,
	// created, deleted, pushed, …
	Action string `json:"action"`
	Repo   string `json:"repo"`
	// RepoID is the forge's numeric repository/project id, when the payload has it.
	RepoID int64  `json:"repo_id,omitempty"`
	Sender string `json:"sender"`

	Change  *ChangeEvent  `json:"change,omitempty"`
	Push    *PushEvent    `json:"push,omitempty"`
	Issue   *IssueEvent   `json:"issue,omitempty"`
	Comment *CommentEvent `json:"comment,omitempty"`
	// CheckAction is set for EventCheckAction (checkrun.go).
	CheckAction *CheckActionEvent `json:"check_action,omitempty"`

	Deployment  *DeploymentEvent  `json:"deployment,omitempty"`
	StatusCheck *StatusCheckEvent `json:"status_check,omitempty"`
}

// DeploymentEvent is a forge asking whether a deployment may proceed.
type DeploymentEvent struct {
	Environment string `json:"environment"`
	SHA         string `json:"sha"`
	// Status is GitLab's deployment status; patchgate answers "blocked" ones.
	Status       string `json:"status,omitempty"`
	DeploymentID int64  `json:"deployment_id,omitempty"`
	// RunID and CallbackURL are GitHub's: the Actions run waiting, and where
	// the answer goes (checked to name RunID of the same repository).
	RunID       int64  `json:"run_id,omitempty"`
	CallbackURL string `json:"callback_url,omitempty"`
}

// StatusCheckEvent is GitLab asking for a merge request's external status
// check: the merge request payload plus the check it is for.
type StatusCheckEvent struct {
	MRIID     int    `json:"mr_iid"`
	HeadSHA   string `json:"head_sha"`
	CheckID   int64  `json:"check_id"`
	ProjectID int64  `json:"project_id"`
}

// ChangeEvent describes a pull or merge request as the event saw it.
type ChangeEvent struct {
	Number       int    `json:"number"`
	Title        string `json:"title"`
	Body         string `json:"body"`
	SourceBranch string `json:"source_branch"`
	TargetBranch string `json:"target_branch"`
	HeadSHA      string `json:"head_sha"`
	// BeforeSHA is the replaced head on a push to the change (GitHub synchronize
	// "before", GitLab "oldrev"), else "".
	BeforeSHA string `json:"before_sha,omitempty"`
	BaseSHA   string `json:"base_sha,omitempty"`
	Author    string `json:"author"`
	// AuthorID is the forge user id of Author (GitHub's PR user id, GitLab's
	// author_id); 0 when the payload does not say.
	AuthorID       int64       `json:"author_id,omitempty"`
	State          ChangeState `json:"state"`
	MergeCommitSHA string      `json:"merge_commit_sha,omitempty"`
	FromFork       bool        `json:"from_fork"`
	// SourceRepo is the head repository's full path (differs for forks).
	SourceRepo string `json:"source_repo,omitempty"`
	URL        string `json:"url,omitempty"`
	// LastCommit is the head commit when the payload carries it (GitLab does).
	LastCommit *Commit   `json:"last_commit,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// PushEvent describes a push to a branch.
type PushEvent struct {
	Ref     string `json:"ref"`    // refs/heads/main
	Branch  string `json:"branch"` // main; "" for tags
	Before  string `json:"before"`
	After   string `json:"after"`
	Forced  bool   `json:"forced"`
	Deleted bool   `json:"deleted"`
	Created bool   `json:"created"`
	Pusher  string `json:"pusher"`
	// PusherID is the pusher's forge user id (GitHub's sender id, GitLab's
	// user_id); 0 when the payload does not say.
	PusherID int64    `json:"pusher_id,omitempty"`
	Commits  []Commit `json:"commits"`
	// PushedAt is the head commit's timestamp, the best order the payload offers.
	PushedAt time.Time `json:"pushed_at"`
}

// Commit is one commit named in an event.
type Commit struct {
	SHA       string    `json:"sha"`
	Message   string    `json:"message"`
	Author    string    `json:"author"`
	URL       string    `json:"url,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	// AuthorEmail, Committer (the forge login when the forge maps one, else
	// the name) and CommitterEmail are set by compare, for the author rule.
	AuthorEmail    string `json:"author_email,omitempty"`
	Committer      string `json:"committer,omitempty"`
	CommitterEmail string `json:"committer_email,omitempty"`
	// AuthorID and CommitterID are the forge user ids of the accounts the
	// forge maps the commit's author and committer to (GitHub's
	// .author.id); 0 when it maps none (GitLab's compare never does).
	AuthorID    int64 `json:"author_id,omitempty"`
	CommitterID int64 `json:"committer_id,omitempty"`
	// Parents are set by compare; two or more make a merge commit.
	Parents []string `json:"parents,omitempty"`
	// ResolvesMerge marks a merge commit whose tree is not what merging its
	// parents gives (a conflict resolved, or anything else written while
	// merging): its author and committer wrote code (MergeOnlyMerges).
	ResolvesMerge bool `json:"resolves_merge,omitempty"`
}

// IssueEvent describes a forge issue.
type IssueEvent struct {
	Number   int      `json:"number"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	State    string   `json:"state"` // open or closed
	Labels   []string `json:"labels"`
	Severity Severity `json:"severity"` // from GitLab's severity field or labels
	// SupportLevel is the level a tracker's field names (Jira); "" for none.
	SupportLevel SupportLevel `json:"support_level,omitempty"`
	Author       string       `json:"author"`
	URL          string       `json:"url,omitempty"`
	UpdatedAt    time.Time    `json:"updated_at"`
	// CreatedAt is when the issue was opened: the SLA clock starts there.
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// CommentEvent describes a comment on an issue or a change.
type CommentEvent struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	// Author wrote the comment; "" when the payload does not say (a GitLab
	// note hook whose user, the actor, is not the note's author).
	Author string `json:"author"`
	// AuthorID is the forge's user id of Author as the forge's API reports it
	// when patchgate reads the comment back; 0 in a webhook's claim.
	AuthorID int64  `json:"author_id,omitempty"`
	URL      string `json:"url,omitempty"`
	// Number is the issue, PR or MR number the comment is on; OnChange says
	// whether that is a PR/MR (true) or an issue (false).
	Number   int  `json:"number"`
	OnChange bool `json:"on_change"`
	// CommitSHA is set for comments on a commit (GitLab commit notes).
	CommitSHA string    `json:"commit_sha,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the comment was last edited (CreatedAt when never).
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Edited reports whether the comment was changed after it was written: its
// text is then not what its author wrote when they wrote it.
func (c *CommentEvent) Edited() bool { return c.UpdatedAt.After(c.CreatedAt) }
