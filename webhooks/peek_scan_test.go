package webhooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// peekReference is what Peek decoded with before peekDecode: json.Unmarshal
// into a struct with the same fields. peekDecode must agree with it on every
// input: the same fields, and an error exactly when it errs.
func peekReference(body []byte) (action, ref, repo, oaAction, noteable, project string, err error) {
	var p struct {
		Action     string `json:"action"`
		Ref        string `json:"ref"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		ObjectAttributes struct {
			Action       string `json:"action"`
			NoteableType string `json:"noteable_type"`
		} `json:"object_attributes"`
		Project struct {
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"project"`
	}
	err = json.Unmarshal(body, &p)
	return p.Action, p.Ref, p.Repository.FullName, p.ObjectAttributes.Action, p.ObjectAttributes.NoteableType, p.Project.PathWithNamespace, err
}

func peekNew(body []byte) (action, ref, repo, oaAction, noteable, project string, err error) {
	err = peekDecode(body, []peekField{
		{name: "action", dst: &action},
		{name: "ref", dst: &ref},
		{name: "repository", sub: []peekField{{name: "full_name", dst: &repo}}},
		{name: "object_attributes", sub: []peekField{{name: "action", dst: &oaAction}, {name: "noteable_type", dst: &noteable}}},
		{name: "project", sub: []peekField{{name: "path_with_namespace", dst: &project}}},
	})
	return
}

func checkPeekScan(t *testing.T, body []byte) {
	t.Helper()
	a1, r1, p1, o1, n1, j1, err1 := peekReference(body)
	a2, r2, p2, o2, n2, j2, err2 := peekNew(body)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%q: json.Unmarshal error %v, peekDecode error %v", body, err1, err2)
	}
	if err1 != nil {
		return
	}
	if [6]string{a1, r1, p1, o1, n1, j1} != [6]string{a2, r2, p2, o2, n2, j2} {
		t.Fatalf("%q: json.Unmarshal %q, peekDecode %q", body, [6]string{a1, r1, p1, o1, n1, j1}, [6]string{a2, r2, p2, o2, n2, j2})
	}
}

var peekScanCases = []string{
	`{"action":"opened","repository":{"full_name":"acme/pay"}}`,
	`{"Action":"opened","ACTION":"x","action":"y"}`,
	`{"action":"a","action":null}`,
	`{"action":1}`, `{"repository":"x"}`, `{"repository":null,"action":"b"}`, `{"repository":[]}`,
	`{"repository":{"full_name":"a"},"repository":{"id":1}}`,
	`{"action":"\u006fpened","ref":"refs\/heads\/main"}`, `{"action":"\ud800"}`, "{\"action\":\"\xff\"}",
	`null`, ` null `, `[]`, `"x"`, `1`, `true`, `{}`, `{} x`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `[1,]`,
	`{"a":-0.5e+10}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}",
	`{"a":tru}`, `{"a":nul}`, `{"a":[1,{"b":[null,false,true,"s",{}]}]}`, ``, `   `, `{`, `{"action":"x"`,
	`{"object_attributes":{"action":"open","noteable_type":"Issue"},"project":{"path_with_namespace":"g/p"}}`,
}

func TestPeekScanMatchesUnmarshal(t *testing.T) {
	for _, c := range peekScanCases {
		checkPeekScan(t, []byte(c))
	}
	deep := make([]byte, 0, 2*10001+2)
	for range 10001 {
		deep = append(deep, '[')
	}
	for range 10001 {
		deep = append(deep, ']')
	}
	checkPeekScan(t, deep)
	checkPeekScan(t, deep[1:len(deep)-1])
	files, _ := filepath.Glob("testdata/github/*/*.json")
	gitlab, _ := filepath.Glob("testdata/gitlab/*.json")
	files = append(files, gitlab...)
	if len(files) == 0 {
		t.Fatal("no payloads in testdata")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkPeekScan(t, b)
		for _, cut := range []int{1, len(b) / 2, len(b) - 1} {
			checkPeekScan(t, b[:cut])
		}
	}
}

func FuzzPeekScan(f *testing.F) {
	for _, c := range peekScanCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkPeekScan(t, body) })
}
