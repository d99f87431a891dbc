package forges

import (
	"context"
	"net/http"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

func checkCompare(forge patchgate.Forge, repo patchgate.RepoRef, base, head string) error {
	if err := checkRepo(forge, repo); err != nil {
		return err
	}
	if base == "" || head == "" {
		return patchgate.Errorf(patchgate.EINVALID, "compare in %s: base and head required", repo)
	}
	return nil
}

// Compare implements patchgate.Comparer with the compare API, following its
// pages of commits.
func (g *GitHub) Compare(ctx context.Context, repo patchgate.RepoRef, base, head string) (*patchgate.Comparison, error) {
	if err := checkCompare(patchgate.GitHub, repo, base, head); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var out *patchgate.Comparison
	err := g.retry.do(ctx, "compare "+base+"..."+head+" in "+repo.String(), func() (*http.Response, error) {
		out = &patchgate.Comparison{Base: base, Head: head}
		var commits []listedCommit
		opts := &github.ListOptions{PerPage: 100}
		for {
			cmp, resp, err := g.client.Repositories.CompareCommits(ctx, owner, name, base, head, opts)
			if err != nil {
				return ghResp(resp), err
			}
			out.Ahead, out.Behind = cmp.GetAheadBy(), cmp.GetBehindBy()
			if opts.Page == 0 { // every page repeats the files
				out.FilesCapped = len(cmp.Files) >= patchgate.MaxComparedFiles
				for _, f := range cmp.Files {
					out.Files = append(out.Files, patchgate.ChangedFile{
						Path: f.GetFilename(), PreviousPath: f.GetPreviousFilename(),
						Status: ghFileStatus(f.GetStatus()), Patch: f.GetPatch(),
						BlobSHA: ghBlobSHA(f),
					})
				}
			}
			for _, c := range cmp.Commits {
				author := c.GetAuthor().GetLogin()
				if author == "" {
					author = c.GetCommit().GetAuthor().GetName()
				}
				committer := c.GetCommitter().GetLogin()
				if committer == "" {
					committer = c.GetCommit().GetCommitter().GetName()
				}
				lc := listedCommit{Commit: patchgate.Commit{
					SHA: c.GetSHA(), Message: c.GetCommit().GetMessage(), Author: author,
					Timestamp:   c.GetCommit().GetAuthor().GetDate().Time,
					AuthorEmail: c.GetCommit().GetAuthor().GetEmail(), Committer: committer,
					CommitterEmail: c.GetCommit().GetCommitter().GetEmail(),
					// The accounts GitHub maps the commit to, by id: the
					// author rule compares people by id.
					AuthorID: c.GetAuthor().GetID(), CommitterID: c.GetCommitter().GetID(),
				}}
				for _, p := range c.Parents {
					lc.parents = append(lc.parents, p.GetSHA())
				}
				lc.Parents = lc.parents
				commits = append(commits, lc)
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
		out.Commits = oldestFirst(commits)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Compare implements patchgate.Comparer with two calls of the compare API:
// GitLab reports only the commits from→to, so behind is the length of to→from.
func (g *GitLab) Compare(ctx context.Context, repo patchgate.RepoRef, base, head string) (*patchgate.Comparison, error) {
	if err := checkCompare(patchgate.GitLab, repo, base, head); err != nil {
		return nil, err
	}
	var ahead, behind *gitlab.Compare
	compare := func(from, to string, into **gitlab.Compare) func() (*http.Response, error) {
		return func() (*http.Response, error) {
			cmp, resp, err := g.client.Repositories.Compare(repo.Name,
				&gitlab.CompareOptions{From: &from, To: &to}, gitlab.WithContext(ctx))
			*into = cmp
			return glResp(resp), err
		}
	}
	action := "compare " + base + "..." + head + " in " + repo.String()
	if err := g.retry.do(ctx, action, compare(base, head, &ahead)); err != nil {
		return nil, err
	}
	if err := g.retry.do(ctx, action, compare(head, base, &behind)); err != nil {
		return nil, err
	}
	var commits []listedCommit
	for _, c := range ahead.Commits {
		lc := listedCommit{Commit: patchgate.Commit{
			SHA: c.ID, Message: c.Message, Author: c.AuthorName, AuthorEmail: c.AuthorEmail,
			Committer: c.CommitterName, CommitterEmail: c.CommitterEmail, Parents: c.ParentIDs,
		}, parents: c.ParentIDs}
		if c.AuthoredDate != nil {
			lc.Timestamp = *c.AuthoredDate
		}
		commits = append(commits, lc)
	}
	var files []patchgate.ChangedFile
	for _, d := range ahead.Diffs {
		f := patchgate.ChangedFile{Path: d.NewPath, Status: patchgate.FileModified, Patch: d.Diff}
		switch {
		case d.NewFile:
			f.Status = patchgate.FileAdded
		case d.DeletedFile:
			f.Status, f.Path = patchgate.FileRemoved, d.OldPath
		case d.RenamedFile:
			f.Status, f.PreviousPath = patchgate.FileRenamed, d.OldPath
		}
		files = append(files, f)
	}
	return &patchgate.Comparison{
		Base: base, Head: head, Ahead: len(ahead.Commits), Behind: len(behind.Commits),
		Commits: oldestFirst(commits), Files: files,
	}, nil
}

// ghFileStatus maps GitHub's file statuses onto the four patchgate keeps: a
// copy is a new file, "changed" (mode only) a modification.
func ghFileStatus(s string) patchgate.FileStatus {
	switch s {
	case "added", "copied":
		return patchgate.FileAdded
	case "removed":
		return patchgate.FileRemoved
	case "renamed":
		return patchgate.FileRenamed
	}
	return patchgate.FileModified
}

// listedCommit is a compared commit with its parents, for ordering.
type listedCommit struct {
	patchgate.Commit
	parents []string
}

// oldestFirst orders commits so that every parent comes before its children,
// keeping the forge's order otherwise; it does not trust the forge to list
// oldest first (GitHub does; GitLab's order is undocumented).
func oldestFirst(cs []listedCommit) []patchgate.Commit {
	index := make(map[string]int, len(cs))
	for i, c := range cs {
		index[c.SHA] = i
	}
	out := make([]patchgate.Commit, 0, len(cs))
	state := make([]uint8, len(cs)) // 0 new, 1 visiting, 2 done
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		for _, p := range cs[i].parents {
			if j, ok := index[p]; ok {
				visit(j)
			}
		}
		state[i] = 2
		out = append(out, cs[i].Commit)
	}
	for i := range cs {
		visit(i)
	}
	return out
}

// ghBlobSHA is the blob id of a compared file's new content: GitHub reports
// it for every file but a removed one (whose sha names the old blob).
func ghBlobSHA(f *github.CommitFile) string {
	if f.GetStatus() == "removed" {
		return ""
	}
	return f.GetSHA()
}
