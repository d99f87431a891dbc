package forges

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// FileAt implements patchgate.SourceFetcher with the contents API, falling back
// to the blob API for files over 1 MiB (whose content the contents API omits).
func (g *GitHub) FileAt(ctx context.Context, repo patchgate.RepoRef, path, ref string) ([]byte, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var content []byte
	var kind string
	action := "read " + path + "@" + ref + " in " + repo.String()
	err := g.retry.do(ctx, action, func() (*http.Response, error) {
		fc, _, resp, err := g.client.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: ref})
		if err != nil {
			return ghResp(resp), err
		}
		if fc == nil {
			kind = "directory"
			return nil, nil
		}
		if kind = fc.GetType(); kind != "file" {
			return nil, nil
		}
		if fc.GetEncoding() == "none" || fc.Content == nil && fc.GetSize() > 0 {
			content, resp, err = g.client.Git.GetBlobRaw(ctx, owner, name, fc.GetSHA())
			return ghResp(resp), err
		}
		s, err := fc.GetContent()
		content = []byte(s)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	if kind != "file" {
		return nil, patchgate.Errorf(patchgate.EINVALID, "%s: %s is a %s, not a file", action, path, kind)
	}
	return content, nil
}

// FileAt implements patchgate.SourceFetcher with the raw file API.
func (g *GitLab) FileAt(ctx context.Context, repo patchgate.RepoRef, path, ref string) ([]byte, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return nil, err
	}
	if err := checkPath(path); err != nil {
		return nil, err
	}
	var content []byte
	err := g.retry.do(ctx, "read "+path+"@"+ref+" in "+repo.String(), func() (*http.Response, error) {
		var resp *gitlab.Response
		var err error
		content, resp, err = g.client.RepositoryFiles.GetRawFile(repo.Name, path,
			&gitlab.GetRawFileOptions{Ref: optional(ref)}, gitlab.WithContext(ctx))
		return glResp(resp), err
	})
	return content, err
}

// Archive implements patchgate.SourceFetcher: it asks GitHub for the tarball
// link of sha and downloads it. The token goes along only when the link points
// at the API's own host (GitHub Enterprise); github.com's codeload links carry
// their own short-lived token.
func (g *GitHub) Archive(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	if err := checkSHA(sha); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var body io.ReadCloser
	err := g.retry.do(ctx, "download archive of "+repo.String()+"@"+sha, func() (*http.Response, error) {
		link, resp, err := g.client.Repositories.GetArchiveLink(ctx, owner, name, github.Tarball,
			&github.RepositoryContentGetOptions{Ref: sha}, 1)
		if err != nil {
			return ghResp(resp), err
		}
		if link.Scheme != "https" && link.Scheme != "http" {
			return nil, fmt.Errorf("archive link has scheme %q", link.Scheme)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, link.String(), nil)
		if err != nil {
			return nil, err
		}
		if link.Scheme == g.base.Scheme && link.Host == g.base.Host {
			bearer, err := g.bearer(ctx, repo)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := g.http.Do(req)
		if err != nil {
			return nil, redactURLError(err)
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			return res, fmt.Errorf("archive download: %s", res.Status)
		}
		body = res.Body
		return nil, nil
	})
	return body, err
}

// Archive implements patchgate.SourceFetcher with GitLab's archive.tar.gz,
// streamed: the body is handed over as it arrives, not buffered.
func (g *GitLab) Archive(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return nil, err
	}
	if err := checkSHA(sha); err != nil {
		return nil, err
	}
	format := "tar.gz"
	var body io.ReadCloser
	err := g.retry.do(ctx, "download archive of "+repo.String()+"@"+sha, func() (*http.Response, error) {
		rc, resp, err := stream(ctx, func(ctx context.Context, w io.Writer) (*http.Response, error) {
			resp, err := g.client.Repositories.StreamArchive(repo.Name, w,
				&gitlab.ArchiveOptions{Format: &format, SHA: &sha}, gitlab.WithContext(ctx))
			return glResp(resp), redactURLError(err)
		})
		body = rc
		return resp, err
	})
	return body, err
}

// stream runs fetch in a goroutine writing into a pipe, and returns once the
// body starts flowing, or with fetch's error when it failed before writing
// (an HTTP error status: then the response is returned for the retrier). The
// returned ReadCloser owns the goroutine: Close cancels the fetch and waits
// for it to end.
func stream(ctx context.Context, fetch func(ctx context.Context, w io.Writer) (*http.Response, error)) (io.ReadCloser, *http.Response, error) {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	s := &pipeStream{pr: pr, cancel: cancel, done: make(chan struct{})}
	started := make(chan struct{})
	var resp *http.Response
	var err error
	go func() {
		defer close(s.done)
		resp, err = fetch(ctx, &startWriter{w: pw, started: started})
		pw.CloseWithError(err)
	}()
	select {
	case <-started:
		return s, nil, nil
	case <-s.done:
		if err != nil {
			cancel()
			return nil, resp, err
		}
		return s, nil, nil
	}
}

// pipeStream is the reading end of stream.
type pipeStream struct {
	pr     *io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *pipeStream) Read(p []byte) (int, error) { return s.pr.Read(p) }

// Close stops the download and waits for its goroutine.
func (s *pipeStream) Close() error {
	s.cancel()
	s.pr.Close()
	<-s.done
	return nil
}

// startWriter signals the first write, which means the response was a success.
type startWriter struct {
	w       io.Writer
	started chan struct{}
	once    sync.Once
}

func (s *startWriter) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.started) })
	return s.w.Write(p)
}

// redactURLError strips the query string and user info from the URL of a
// *url.Error (what an HTTP client's failures are): a download link carries
// its short-lived token there, and errors end up in suite descriptions and
// logs. Any other error is returned as it is.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}

// redactURL drops a URL's user info, query and fragment.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(a URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
