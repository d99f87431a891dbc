package testenv

import (
	"archive/tar"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

type entry struct {
	name, link string
	typ        byte
}

func tarOf(t *testing.T, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Uid: 7, Gid: 7}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSourceArchive(t *testing.T) {
	tests := []struct {
		name     string
		workdir  string
		in       []entry
		wantDest string
		want     []string // name [-> link] uid:gid
		wantErr  string
	}{
		{
			name: "prefixed under workdir", workdir: "/workspace",
			in: []entry{
				{name: "./", typ: tar.TypeDir},
				{name: "./a.txt", typ: tar.TypeReg},
				{name: "dir/", typ: tar.TypeDir},
				{name: "dir/s", link: "../a.txt", typ: tar.TypeSymlink},
				{name: "dir/h", link: "a.txt", typ: tar.TypeLink},
			},
			wantDest: "/",
			want:     []string{"workspace/ 1000:1000", "workspace/a.txt 1000:1000", "workspace/dir/ 1000:1000", "workspace/dir/s -> ../a.txt 1000:1000", "workspace/dir/h -> workspace/a.txt 1000:1000"},
		},
		{
			name: "nested workdir", workdir: "/src/app/",
			in:       []entry{{name: "/abs.txt", typ: tar.TypeReg}},
			wantDest: "/src",
			want:     []string{"app/ 1000:1000", "app/abs.txt 1000:1000"},
		},
		{
			name: "root workdir", workdir: "/",
			in:       []entry{{name: "a", typ: tar.TypeReg}},
			wantDest: "/",
			want:     []string{"a 1000:1000"},
		},
		{name: "escape", workdir: "/workspace", in: []entry{{name: "../etc/passwd", typ: tar.TypeReg}}, wantErr: "outside the source tree"},
		{name: "hardlink escape", workdir: "/workspace", in: []entry{{name: "x", link: "../../etc/shadow", typ: tar.TypeLink}}, wantErr: "outside the source tree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest, rc := sourceArchive(bytes.NewReader(tarOf(t, tt.in...)), tt.workdir, owner{1000, 1000})
			defer rc.Close()
			var got []string
			tr := tar.NewReader(rc)
			var err error
			for {
				var h *tar.Header
				if h, err = tr.Next(); err != nil {
					break
				}
				s := h.Name
				if h.Linkname != "" {
					s += " -> " + h.Linkname
				}
				got = append(got, s+" "+strconv.Itoa(h.Uid)+":"+strconv.Itoa(h.Gid))
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != io.EOF {
				t.Fatalf("read: %v", err)
			}
			if dest != tt.wantDest {
				t.Errorf("got dest %q, want %q", dest, tt.wantDest)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLookup(t *testing.T) {
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\nrunner:x:1000:1001:runner:/tmp:/bin/sh\nbroken\n")
	tests := []struct {
		name      string
		uid, gid  int
		wantFound bool
	}{
		{name: "runner", uid: 1000, gid: 1001, wantFound: true},
		{name: "1000", uid: 1000, gid: 1001, wantFound: true},
		{name: "root", uid: 0, gid: 0, wantFound: true},
		{name: "nobody", wantFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, gid, found := lookup(passwd, tt.name)
			if found != tt.wantFound || uid != tt.uid || gid != tt.gid {
				t.Errorf("got %d:%d found %v, want %d:%d found %v", uid, gid, found, tt.uid, tt.gid, tt.wantFound)
			}
		})
	}
}
