package patchgate

// ReviewKind is the kind of a forge's reviewable change: a merge request on
// GitLab, a pull request elsewhere.
func ReviewKind(f Forge) ChangeKind {
	if f == GitLab {
		return ChangeMergeRequest
	}
	return ChangePullRequest
}
