package main

import (
	"encoding/json"
	"os"
	"testing"
)

// TestBurstBodies: every delivery of a burst is its own pull request (number,
// head, branch) naming its own ticket, spread over the repositories in turn.
func TestBurstBodies(t *testing.T) {
	body, err := os.ReadFile("../../webhooks/testdata/github/pull_request/opened.api.github.com.13.json")
	if err != nil {
		t.Fatal(err)
	}
	bodies, repos, err := burstBodies(body, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 6 || len(repos) != 3 || repos[0] != "Codertocat/Hello-World" || repos[2] != "Codertocat/Hello-World-2" {
		t.Fatalf("got %d bodies over %v", len(bodies), repos)
	}
	seen := map[string]bool{}
	for i, b := range bodies {
		var p struct {
			Number      int `json:"number"`
			PullRequest struct {
				Number int    `json:"number"`
				Title  string `json:"title"`
				Head   struct{ SHA, Ref string }
			} `json:"pull_request"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		pr := p.PullRequest
		if p.Number != 1000+i || pr.Number != 1000+i || p.Repository.FullName != repos[i%3] {
			t.Errorf("delivery %d: PR %d/%d in %s", i, p.Number, pr.Number, p.Repository.FullName)
		}
		for _, v := range []string{pr.Title, pr.Head.SHA, pr.Head.Ref} {
			if seen[v] {
				t.Errorf("delivery %d repeats %q", i, v)
			}
			seen[v] = true
		}
	}
	if _, _, err := burstBodies([]byte(`{"repository":{"full_name":"a/b"}}`), 1, 1); err == nil {
		t.Error("a payload without pull_request: no error")
	}
}
