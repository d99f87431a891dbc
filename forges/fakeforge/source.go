package fakeforge

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// ghMaxInlineContent is the size above which GitHub's contents API leaves the
// content out ("encoding": "none") and clients must fetch the blob.
const ghMaxInlineContent = 1 << 20

// blobSHA is git's object id of a blob with content c.
func blobSHA(c []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(c))
	h.Write(c)
	return hex.EncodeToString(h.Sum(nil))
}

func (f *Forge) ghContents(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	ref := r.URL.Query().Get("ref")
	key := rp.resolve(ref)
	if key == "" {
		writeJSON(w, http.StatusNotFound, ghError("No commit found for the ref "+ref))
		return
	}
	tree := rp.trees[key]
	p := strings.Trim(r.PathValue("path"), "/")
	if content, ok := tree[p]; ok && p != "" {
		out := map[string]any{
			"type": "file", "name": path.Base(p), "path": p, "size": len(content),
			"sha": blobSHA(content), "encoding": "base64", "content": wrap60(base64.StdEncoding.EncodeToString(content)),
		}
		if len(content) > ghMaxInlineContent {
			out["encoding"], out["content"] = "none", ""
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	prefix := ""
	if p != "" {
		prefix = p + "/"
	}
	seen := map[string]bool{}
	entries := []map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(tree)) {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		first, _, isDir := strings.Cut(rest, "/")
		if seen[first] {
			continue
		}
		seen[first] = true
		e := map[string]any{"type": "file", "name": first, "path": prefix + first}
		if isDir {
			e["type"] = "dir"
		} else {
			e["size"], e["sha"] = len(tree[name]), blobSHA(tree[name])
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 && p != "" {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

// wrap60 breaks base64 into 60-character lines, as GitHub sends it.
func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	return b.String()
}

func (f *Forge) ghBlob(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	want := r.PathValue("sha")
	for _, tree := range rp.trees {
		for _, content := range tree {
			if blobSHA(content) != want {
				continue
			}
			if strings.Contains(r.Header.Get("Accept"), "raw") {
				w.Header().Set("Content-Type", "application/vnd.github.raw")
				_, _ = w.Write(content)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{
				"sha": want, "size": len(content), "encoding": "base64",
				"content": base64.StdEncoding.EncodeToString(content),
			})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
}

// ghTarballLink answers like GitHub: a 302 to a download location.
func (f *Forge) ghTarballLink(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	key := rp.resolve(r.PathValue("ref"))
	if key == "" {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	base := f.archiveBase
	if base == "" {
		base = "http://" + r.Host
	}
	loc := base + "/_codeload/" + url.PathEscape(r.PathValue("owner")) + "/" +
		url.PathEscape(r.PathValue("repo")) + "/legacy.tar.gz/" + url.PathEscape(key)
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

// ghTarball serves the archive ghTarballLink points to: a tar.gz with a pax
// global header carrying the SHA and everything under "owner-repo-<sha7>/".
func (f *Forge) ghTarball(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	key := r.PathValue("sha")
	tree, ok := rp.trees[key]
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	short := key[:min(7, len(key))]
	prefix := r.PathValue("owner") + "-" + r.PathValue("repo") + "-" + short + "/"
	w.Header().Set("Content-Type", "application/x-gzip")
	_, _ = w.Write(buildTar(tree, prefix, key, rp.commitTime(key), true))
}

func (f *Forge) glRawFile(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	key := rp.resolve(r.URL.Query().Get("ref"))
	if key == "" {
		writeJSON(w, http.StatusNotFound, glMessage("404 Commit Not Found"))
		return
	}
	content, ok := rp.trees[key][r.PathValue("file")]
	if !ok {
		writeJSON(w, http.StatusNotFound, glMessage("404 File Not Found"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(content)
}

// glArchive serves repository/archive[.tar.gz|.tar]?sha=…, everything under
// "<project>-<ref>-<sha>/".
func (f *Forge) glArchive(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	ref := r.URL.Query().Get("sha")
	if ref == "" {
		ref = rp.defaultBranch
	}
	key := rp.resolve(ref)
	if key == "" {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
		return
	}
	project := rp.name[strings.LastIndex(rp.name, "/")+1:]
	gz := !strings.HasSuffix(r.URL.Path, ".tar")
	if gz {
		w.Header().Set("Content-Type", "application/x-gzip")
	} else {
		w.Header().Set("Content-Type", "application/x-tar")
	}
	_, _ = w.Write(buildTar(rp.trees[key], project+"-"+ref+"-"+key+"/", "", rp.commitTime(key), gz))
}

func (rp *repo) commitTime(sha string) time.Time {
	if c, ok := rp.commits[sha]; ok {
		return c.at
	}
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
}

// buildTar archives tree under prefix, directories first, in path order. A
// non-empty paxComment is written as a pax global header, as GitHub does.
func buildTar(tree map[string][]byte, prefix, paxComment string, at time.Time, gz bool) []byte {
	entries := map[string]bool{prefix: true}
	for p := range tree {
		entries[prefix+p] = true
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			entries[prefix+d+"/"] = true
		}
	}
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	if paxComment != "" {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
			PAXRecords: map[string]string{"comment": paxComment}, ModTime: at})
	}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		if strings.HasSuffix(name, "/") {
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: at})
			continue
		}
		content := tree[strings.TrimPrefix(name, prefix)]
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: at})
		_, _ = tw.Write(content)
	}
	_ = tw.Close()
	if zw != nil {
		_ = zw.Close()
	}
	return buf.Bytes()
}
