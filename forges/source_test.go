package forges_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
)

var tree = map[string][]byte{
	".patchgate.yml":  []byte("suites: {}\n"),
	"go.mod":          []byte("module example.com/app\n"),
	"cmd/app/main.go": []byte("package main\n"),
	"docs/a b.md":     []byte("spaces in names\n"),
}

func TestFileAt(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20+10) // over GitHub's inline limit
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("tree")
			files := maps.Clone(tree)
			files["big.bin"] = big
			ff.AddCommit(tc.repo, head, files, "m", "dev")
			ff.SetBranch(tc.repo, "main", head)

			tests := []struct {
				name string
				path string
				ref  string
				want []byte
				code string
			}{
				{"at sha", "go.mod", head, tree["go.mod"], ""},
				{"at branch", ".patchgate.yml", "main", tree[".patchgate.yml"], ""},
				{"nested", "cmd/app/main.go", head, tree["cmd/app/main.go"], ""},
				{"space", "docs/a b.md", head, tree["docs/a b.md"], ""},
				{"over 1 MiB", "big.bin", head, big, ""},
				{"missing file", "nope.txt", head, nil, patchgate.ENOTFOUND},
				{"unknown ref", "go.mod", sha("nope"), nil, patchgate.ENOTFOUND},
				{"dotdot", "../etc/passwd", head, nil, patchgate.EINVALID},
				{"absolute", "/go.mod", head, nil, patchgate.EINVALID},
				{"empty", "", head, nil, patchgate.EINVALID},
			}
			for _, tt := range tests {
				got, err := c.FileAt(context.Background(), tc.ref(), tt.path, tt.ref)
				if code := patchgate.ErrorCode(err); code != tt.code {
					t.Errorf("%s: code: got %q (%v), want %q", tt.name, code, err, tt.code)
					continue
				}
				if !bytes.Equal(got, tt.want) {
					t.Errorf("%s: content: got %d bytes %.40q, want %d bytes %.40q", tt.name, len(got), got, len(tt.want), tt.want)
				}
			}

			// A directory: GitHub says what it is, GitLab cannot tell it from a missing file.
			_, err := c.FileAt(context.Background(), tc.ref(), "cmd", head)
			want := patchgate.EINVALID
			if tc.forge == patchgate.GitLab {
				want = patchgate.ENOTFOUND
			}
			if code := patchgate.ErrorCode(err); code != want {
				t.Errorf("directory: code: got %q (%v), want %q", code, err, want)
			}
		})
	}
}

// readTar returns a plain tar's regular files and directories ("dir/").
func readTar(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		out[hdr.Name] = b
	}
}

func TestArchive(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("archive")
			ff.AddCommit(tc.repo, head, tree, "m", "dev")

			rc, err := forges.OpenTree(context.Background(), c, tc.ref(), head)
			if err != nil {
				t.Fatalf("OpenTree: %v", err)
			}
			got := readTar(t, rc)
			if err := rc.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			want := maps.Clone(tree)
			want["cmd/"], want["cmd/app/"], want["docs/"] = []byte{}, []byte{}, []byte{}
			gotNames, wantNames := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))
			if !slices.Equal(gotNames, wantNames) {
				t.Fatalf("entries: got %q, want %q", gotNames, wantNames)
			}
			for name, content := range tree {
				if !bytes.Equal(got[name], content) {
					t.Errorf("%s: got %q, want %q", name, got[name], content)
				}
			}
		})
	}
}

func TestArchiveIsGzip(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("gzip")
			ff.AddCommit(tc.repo, head, tree, "m", "dev")
			rc, err := c.Archive(context.Background(), tc.ref(), head)
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			defer rc.Close()
			magic := make([]byte, 2)
			if _, err := io.ReadFull(rc, magic); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
				t.Errorf("first bytes: got %x (%v), want gzip magic 1f8b", magic, err)
			}
		})
	}
}

func TestArchiveRefused(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			ff.AddCommit(tc.repo, sha("x"), tree, "m", "dev")
			tests := []struct {
				name string
				repo patchgate.RepoRef
				sha  string
				want string
			}{
				{"unknown sha", tc.ref(), sha("nope"), patchgate.ENOTFOUND},
				{"unknown repo", patchgate.RepoRef{Forge: tc.forge, Name: "acme/nope"}, sha("x"), patchgate.ENOTFOUND},
				{"branch", tc.ref(), "main", patchgate.EINVALID},
			}
			for _, tt := range tests {
				rc, err := c.Archive(context.Background(), tt.repo, tt.sha)
				if rc != nil {
					rc.Close()
				}
				if got := patchgate.ErrorCode(err); got != tt.want {
					t.Errorf("%s: code: got %q (%v), want %q", tt.name, got, err, tt.want)
				}
			}
		})
	}
}

func TestArchiveCloseEarly(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			head := sha("early")
			ff.AddCommit(tc.repo, head, map[string][]byte{"big": bytes.Repeat([]byte("y"), 4<<20)}, "m", "dev")
			rc, err := c.Archive(context.Background(), tc.ref(), head)
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
				t.Fatalf("read: %v", err)
			}
			if err := rc.Close(); err != nil {
				t.Errorf("Close: got %v, want nil", err)
			}
		})
	}
}

func TestArchiveRetries(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		headers map[string]string
	}{
		{"502", 502, nil},
		{"429", 429, map[string]string{"Retry-After": "0"}},
	}
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ff := MustForge(t)
					c := tc.MustClient(t, ff)
					head := sha("retry-archive")
					ff.AddCommit(tc.repo, head, tree, "m", "dev")
					ff.FailNext(2, tt.status, tt.headers)
					rc, err := forges.OpenTree(context.Background(), c, tc.ref(), head)
					if err != nil {
						t.Fatalf("OpenTree: %v", err)
					}
					defer rc.Close()
					if got := readTar(t, rc); !bytes.Equal(got["go.mod"], tree["go.mod"]) {
						t.Errorf("go.mod: got %q, want %q", got["go.mod"], tree["go.mod"])
					}
				})
			}
		})
	}
}

// authRecorder notes, per host, whether requests carried an Authorization header.
type authRecorder struct {
	mu   sync.Mutex
	seen map[string]bool
	next http.RoundTripper
}

func (a *authRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.seen[req.URL.Hostname()] = req.Header.Get("Authorization") != ""
	a.mu.Unlock()
	return a.next.RoundTrip(req)
}

func TestGitHubArchiveTokenStaysOnAPIHost(t *testing.T) {
	ff := MustForge(t)
	head := sha("codeload")
	ff.AddCommit("acme/payments", head, tree, "m", "dev")
	tests := []struct {
		name         string
		archiveBase  string
		archiveHost  string
		wantArchAuth bool
	}{
		{"same host (GitHub Enterprise)", "", "127.0.0.1", true},
		{"other host (codeload)", strings.Replace(ff.URL(), "127.0.0.1", "localhost", 1), "localhost", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ff.SetArchiveBaseURL(tt.archiveBase)
			rec := &authRecorder{seen: map[string]bool{}, next: http.DefaultTransport}
			cfg := fastConfig()
			cfg.BaseURL = ff.GitHubAPIURL()
			cfg.HTTPClient = &http.Client{Transport: rec}
			g, err := forges.NewGitHub(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := g.Archive(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}, head)
			if err != nil {
				t.Fatalf("Archive: %v", err)
			}
			_, _ = io.Copy(io.Discard, rc)
			rc.Close()
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if got, ok := rec.seen[tt.archiveHost]; !ok || got != tt.wantArchAuth {
				t.Errorf("archive download to %s with token: got %v (seen %v), want %v", tt.archiveHost, got, ok, tt.wantArchAuth)
			}
		})
	}
}
