package forges_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate/forges"
)

// entry is one tar entry to build.
type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
}

func MustTar(tb testing.TB, gz, globalHeader bool, entries ...entry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	if globalHeader {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
			PAXRecords: map[string]string{"comment": "0123456789abcdef0123456789abcdef01234567"}}); err != nil {
			tb.Fatal(err)
		}
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.linkname}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil && e.typ == tar.TypeReg {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestNormalizeArchive(t *testing.T) {
	big := strings.Repeat("z", 200<<10) // spans several 64 KiB steps
	github := []entry{
		{name: "acme-app-0123456/", typ: tar.TypeDir},
		{name: "acme-app-0123456/go.mod", typ: tar.TypeReg, body: "module x\n"},
		{name: "acme-app-0123456/cmd/", typ: tar.TypeDir},
		{name: "acme-app-0123456/cmd/main.go", typ: tar.TypeReg, body: big},
		{name: "acme-app-0123456/link", typ: tar.TypeSymlink, linkname: "go.mod"},
		{name: "acme-app-0123456/hard", typ: tar.TypeLink, linkname: "acme-app-0123456/go.mod"},
	}
	tests := []struct {
		name    string
		archive []byte
		want    map[string]string // name → content (directories and links: "")
		wantErr string
	}{
		{"github tar.gz", MustTar(t, true, true, github...), map[string]string{
			"go.mod": "module x\n", "cmd/": "", "cmd/main.go": big, "link": "", "hard": "",
		}, ""},
		{"plain tar", MustTar(t, false, false, github[:2]...), map[string]string{"go.mod": "module x\n"}, ""},
		{"gitlab without dir entry", MustTar(t, true, false,
			entry{name: "api-sha-sha/a/b.txt", typ: tar.TypeReg, body: "b"}), map[string]string{"a/b.txt": "b"}, ""},
		{"empty", MustTar(t, true, false), map[string]string{}, ""},
		{"two top-level dirs", MustTar(t, true, false,
			entry{name: "a/x", typ: tar.TypeReg, body: "1"}, entry{name: "b/y", typ: tar.TypeReg, body: "2"}), nil, "more than one top-level"},
		{"top-level file", MustTar(t, false, false, entry{name: "README", typ: tar.TypeReg, body: "r"}), nil, "at the top level"},
		{"dotdot", MustTar(t, false, false, entry{name: "top/../../etc/passwd", typ: tar.TypeReg, body: "x"}), nil, "leaves the tree"},
		{"absolute", MustTar(t, false, false, entry{name: "/etc/passwd", typ: tar.TypeReg, body: "x"}), nil, "bad name"},
		{"hard link out of the tree", MustTar(t, false, false,
			entry{name: "top/f", typ: tar.TypeReg, body: "x"}, entry{name: "top/h", typ: tar.TypeLink, linkname: "other/f"}), nil, "hard link"},
		{"not an archive", []byte("<html>rate limited</html>"), nil, "archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			var links []string
			tr := tar.NewReader(forges.NormalizeArchive(bytes.NewReader(tt.archive)))
			var err error
			for {
				var hdr *tar.Header
				hdr, err = tr.Next()
				if err != nil {
					break
				}
				b, rerr := io.ReadAll(tr)
				if rerr != nil {
					err = rerr
					break
				}
				got[hdr.Name] = string(b)
				if hdr.Typeflag == tar.TypeLink {
					links = append(links, hdr.Linkname)
				}
			}
			if tt.wantErr != "" {
				if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != io.EOF {
				t.Fatalf("error: got %v, want io.EOF", err)
			}
			if gotNames, wantNames := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(tt.want)); !slices.Equal(gotNames, wantNames) {
				t.Fatalf("entries: got %q, want %q", gotNames, wantNames)
			}
			for name, content := range tt.want {
				if got[name] != content {
					t.Errorf("%s: got %d bytes, want %d", name, len(got[name]), len(content))
				}
			}
			for _, l := range links {
				if l != "go.mod" {
					t.Errorf("hard link target: got %q, want %q", l, "go.mod")
				}
			}
		})
	}
}

func FuzzNormalizeArchive(f *testing.F) {
	f.Add(MustTar(f, true, true, entry{name: "top/", typ: tar.TypeDir}, entry{name: "top/a", typ: tar.TypeReg, body: "a"}))
	f.Add(MustTar(f, false, false, entry{name: "top/../x", typ: tar.TypeReg, body: "x"}))
	f.Fuzz(func(t *testing.T, archive []byte) {
		tr := tar.NewReader(forges.NormalizeArchive(bytes.NewReader(archive)))
		for {
			hdr, err := tr.Next()
			if err != nil {
				return
			}
			if strings.HasPrefix(hdr.Name, "/") || slices.Contains(strings.Split(hdr.Name, "/"), "..") {
				t.Fatalf("entry %q escapes the tree", hdr.Name)
			}
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return
			}
		}
	})
}
