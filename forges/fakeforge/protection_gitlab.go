package fakeforge

import "net/http"

// GitLab's protection read routes (protection.go has the state and GitHub's).

func accessLevelDescription(a Access) string {
	switch {
	case a.UserID != 0:
		return "user " + itoa(a.UserID)
	case a.GroupID != 0:
		return "group " + itoa(a.GroupID)
	}
	switch a.Level {
	case 0:
		return "No access"
	case 30:
		return "Developers + Maintainers"
	case 40:
		return "Maintainers"
	}
	return "Administrators"
}

func glAccess(list []Access, idBase int64) []map[string]any {
	out := []map[string]any{}
	for i, a := range list {
		m := map[string]any{"id": idBase + int64(i), "access_level": a.Level, "access_level_description": accessLevelDescription(a),
			"user_id": nil, "group_id": nil, "deploy_key_id": nil}
		if a.UserID != 0 {
			m["user_id"] = a.UserID
		}
		if a.GroupID != 0 {
			m["group_id"] = a.GroupID
		}
		out = append(out, m)
	}
	return out
}

// glPaged writes one page of items as a JSON list with GitLab's headers.
func glPaged(w http.ResponseWriter, r *http.Request, items []map[string]any) {
	lo, hi := paginate(w, r, len(items), 20, 100)
	writeJSON(w, http.StatusOK, items[lo:hi])
}

// glExternalStatusChecks answers GET /projects/:id/external_status_checks.
func (f *Forge) glExternalStatusChecks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	items := []map[string]any{}
	for i, c := range rp.protection.StatusChecks {
		branches := []map[string]any{}
		for _, b := range c.Branches {
			branches = append(branches, map[string]any{"id": rp.protectedBranchID(b), "project_id": rp.id, "name": b,
				"created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z", "code_owner_approval_required": false})
		}
		items = append(items, map[string]any{"id": i + 1, "name": c.Name, "project_id": rp.id, "external_url": c.URL,
			"hmac": true, "protected_branches": branches})
	}
	glPaged(w, r, items)
}

// protectedBranchID is the id of a protected branch; one that is not
// protected gets an id past the list, as a deleted protection would leave.
func (rp *repo) protectedBranchID(name string) int64 {
	for i, pb := range rp.protection.ProtectedBranches {
		if pb.Name == name {
			return int64(i + 1)
		}
	}
	return int64(len(rp.protection.ProtectedBranches) + 1000)
}

// glProtectedBranches answers GET /projects/:id/protected_branches.
func (f *Forge) glProtectedBranches(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	items := []map[string]any{}
	for i, pb := range rp.protection.ProtectedBranches {
		id := int64(i + 1)
		items = append(items, map[string]any{"id": id, "name": pb.Name,
			"push_access_levels": glAccess(pb.Push, id*100), "merge_access_levels": glAccess(pb.Merge, id*100+50),
			"unprotect_access_levels": []any{}, "allow_force_push": pb.AllowForcePush, "code_owner_approval_required": false})
	}
	glPaged(w, r, items)
}

// glProtectedTags answers GET /projects/:id/protected_tags.
func (f *Forge) glProtectedTags(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	items := []map[string]any{}
	for i, pt := range rp.protection.ProtectedTags {
		items = append(items, map[string]any{"name": pt.Name, "create_access_levels": glAccess(pt.Create, int64(i+1)*100)})
	}
	glPaged(w, r, items)
}

// glProtectedEnvironments answers GET /projects/:id/protected_environments.
func (f *Forge) glProtectedEnvironments(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	items := []map[string]any{}
	for i, pe := range rp.protection.ProtectedEnvironments {
		rules := []map[string]any{}
		for j, a := range pe.Approvals {
			m := glAccess([]Access{a.Access}, int64(i+1)*100+int64(j))[0]
			m["required_approvals"] = a.RequiredApprovals
			m["group_inheritance_type"] = 0
			rules = append(rules, m)
		}
		items = append(items, map[string]any{"name": pe.Name,
			"deploy_access_levels":    glAccess([]Access{{Level: 40}}, int64(i+1)*100+90),
			"required_approval_count": 0, "approval_rules": rules})
	}
	glPaged(w, r, items)
}

// GitLabEnforced is a GitLab project's settings that enforce patchgate's
// gate: its external status check at statusURL on branch, which must
// succeed, branch protected (push: no one, merge: maintainers), v* tags
// created only by userID, each environment approved by userID.
func GitLabEnforced(branch, statusURL string, userID int64, environments ...string) Protection {
	p := Protection{
		StatusChecksMustSucceed: true,
		StatusChecks:            []ExternalStatusCheck{{Name: "patchgate", URL: statusURL, Branches: []string{branch}}},
		ProtectedBranches:       []ProtectedBranch{{Name: branch, Push: []Access{{Level: 0}}, Merge: []Access{{Level: 40}}}},
		ProtectedTags:           []ProtectedTag{{Name: "v*", Create: []Access{{Level: 40, UserID: userID}}}},
	}
	for _, e := range environments {
		p.ProtectedEnvironments = append(p.ProtectedEnvironments, ProtectedEnvironment{Name: e,
			Approvals: []ApprovalRule{{Access: Access{Level: 40, UserID: userID}, RequiredApprovals: 1}}})
	}
	return p
}
