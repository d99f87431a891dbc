package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/patchgate/patchgate"
)

// fakeBisector records the starts and cancels asked of it.
type fakeBisector struct {
	calls []string
	err   error
}

func (f *fakeBisector) Start(_ context.Context, id int64, by string) (*patchgate.Bisection, error) {
	f.calls = append(f.calls, "start by "+by)
	return &patchgate.Bisection{CandidateID: id, State: patchgate.BisectionRunning, Points: 3}, f.err
}

func (f *fakeBisector) Cancel(_ context.Context, id int64, by string) (*patchgate.Bisection, error) {
	f.calls = append(f.calls, "cancel by "+by)
	if f.err != nil {
		return nil, f.err
	}
	return &patchgate.Bisection{CandidateID: id, State: patchgate.BisectionCanceled, Points: 3, Reason: "canceled by " + by}, nil
}

// TestBisectionEndpoints: a release manager starts and stops a candidate's
// bisection; a viewer may not; the bisector's refusal is the answer.
func TestBisectionEndpoints(t *testing.T) {
	ts := newTestServer(t)
	fake := &fakeBisector{}
	ts.srv.Bisector = fake
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Tokens.CreateToken(context.Background(), &patchgate.Token{Name: "alice", Role: patchgate.RoleReleaseManager, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	do := func(method, token string) (int, patchgate.Bisection) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.http.URL+"/api/v1/releases/12/bisect", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out struct{ Bisection patchgate.Bisection }
		_ = json.Unmarshal(body, &out)
		return resp.StatusCode, out.Bisection
	}
	if code, _ := do(http.MethodDelete, ts.token); code != http.StatusForbidden {
		t.Errorf("a viewer's cancel: got %d, want 403", code)
	}
	if code, b := do(http.MethodDelete, secret); code != http.StatusOK || b.State != patchgate.BisectionCanceled || b.CandidateID != 12 {
		t.Errorf("cancel: got %d %+v, want 200 and the canceled bisection of 12", code, b)
	}
	if code, b := do(http.MethodPost, secret); code != http.StatusOK || b.State != patchgate.BisectionRunning {
		t.Errorf("start: got %d %+v, want 200 and a running bisection", code, b)
	}
	fake.err = patchgate.Errorf(patchgate.ECONFLICT, "the bisection of candidate v1.6.0 already ended canceled")
	if code, _ := do(http.MethodDelete, secret); code != http.StatusConflict {
		t.Errorf("cancel of an ended bisection: got %d, want 409", code)
	}
	if want := []string{"cancel by alice", "start by alice", "cancel by alice"}; len(fake.calls) != 3 || fake.calls[0] != want[0] || fake.calls[1] != want[1] {
		t.Errorf("calls: got %q, want %q", fake.calls, want)
	}
}
