package forges_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

const testAppID = 4242

// testClock is a clock tests move by hand, shared by the client and the fake.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	keyOnce sync.Once
	appKey  *rsa.PrivateKey
)

// mustAppKey returns one RSA key for the whole package: generating one takes
// long enough to matter on two cores.
func mustAppKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		appKey = k
	})
	return appKey
}

// appForge is a fake forge that knows the App and has it installed on
// acme/payments, with a clock the test moves.
func appForge(tb testing.TB) (*fakeforge.Forge, *testClock) {
	tb.Helper()
	ff := MustForge(tb)
	clock := &testClock{t: time.Now()}
	ff.EnableApp(testAppID, "patchgate", &mustAppKey(tb).PublicKey)
	ff.SetAppClock(clock.Now)
	ff.InstallApp("acme/payments")
	return ff, clock
}

func appClient(tb testing.TB, ff *fakeforge.Forge, clock *testClock, key *rsa.PrivateKey) *forges.GitHub {
	tb.Helper()
	cfg := fastConfig()
	cfg.Token = ""
	cfg.BaseURL = ff.GitHubAPIURL()
	cfg.App = &forges.AppConfig{ID: testAppID, Key: key, Now: clock.Now}
	g, err := forges.NewGitHub(cfg)
	if err != nil {
		tb.Fatalf("NewGitHub in App mode: %v", err)
	}
	return g
}

func TestAppInstallationTokenObtainedAndRenewed(t *testing.T) {
	ff, clock := appForge(t)
	g := appClient(t, ff, clock, mustAppKey(t))
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	head := sha("app-head")
	ff.AddCommit(repo.Name, head, nil, "m", "dev")
	post := func() {
		t.Helper()
		if err := g.PostStatus(context.Background(), repo, head, patchgate.CommitStatus{Context: "patchgate/verdict", State: patchgate.StatusPending}); err != nil {
			t.Fatalf("PostStatus in App mode: %v", err)
		}
	}
	post()
	if got := ff.InstallationTokensIssued(); got != 1 {
		t.Fatalf("installation tokens after the first call: got %d, want 1", got)
	}
	if got := count(ff, "GET /api/v3/repos/acme/payments/installation"); got != 1 {
		t.Errorf("installation lookups: got %d, want 1", got)
	}
	clock.Advance(30 * time.Minute)
	post()
	if got := ff.InstallationTokensIssued(); got != 1 {
		t.Errorf("installation tokens half-way through the token's hour: got %d, want 1 (reused)", got)
	}
	// 56 minutes in, the token has less than the renewal margin left: a new
	// one is asked for before the old one dies.
	clock.Advance(26 * time.Minute)
	post()
	if got := ff.InstallationTokensIssued(); got != 2 {
		t.Errorf("installation tokens within five minutes of expiry: got %d, want 2 (renewed)", got)
	}
	// Long after every token expired, the next call still works.
	clock.Advance(3 * time.Hour)
	post()
	if got := ff.InstallationTokensIssued(); got != 3 {
		t.Errorf("installation tokens after expiry: got %d, want 3", got)
	}
	if got := count(ff, "GET /api/v3/repos/acme/payments/installation"); got != 1 {
		t.Errorf("installation lookups: got %d, want 1 (the installation is remembered)", got)
	}
	if got := len(ff.Statuses(repo.Name, head)); got != 4 {
		t.Errorf("statuses: got %d, want 4", got)
	}
}

// TestFakeForgeInstallationTokens: the fake accepts an installation token
// only for its installation's repositories and only until it expires, and
// App routes only with a JWT the App's key signed.
func TestFakeForgeInstallationTokens(t *testing.T) {
	ff, clock := appForge(t)
	ff.AddCommit("acme/payments", sha("a"), nil, "m", "dev")
	ff.AddCommit("acme/other", sha("b"), nil, "m", "dev")
	other := ff.InstallApp("acme/other")
	app := forges.AppConfig{ID: testAppID, Key: mustAppKey(t), Now: clock.Now}
	jwt, err := app.JWT()
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, bearer string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, ff.URL()+path, bytes.NewReader([]byte(`{"state":"pending","context":"x"}`)))
		req.Header.Set("Authorization", "Bearer "+bearer)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, inst := do("GET", "/api/v3/repos/acme/payments/installation", jwt)
	if code != 200 {
		t.Fatalf("installation with the JWT: got %d, want 200", code)
	}
	if code, _ := do("GET", "/api/v3/repos/acme/payments/installation", fakeforge.Token); code != 401 {
		t.Errorf("installation with a plain token: got %d, want 401", code)
	}
	code, tok := do("POST", fmt.Sprintf("/api/v3/app/installations/%.0f/access_tokens", inst["id"].(float64)), jwt)
	if code != 201 || tok["token"] == "" || tok["expires_at"] == "" {
		t.Fatalf("access token: got %d %v, want 201 with token and expires_at", code, tok)
	}
	token := tok["token"].(string)
	if code, _ := do("POST", "/api/v3/repos/acme/payments/statuses/"+sha("a"), token); code != 201 {
		t.Errorf("status with the installation token: got %d, want 201", code)
	}
	if code, _ := do("POST", "/api/v3/repos/acme/other/statuses/"+sha("b"), token); code != 401 {
		t.Errorf("status on installation %d's repository with another installation's token: got %d, want 401", other, code)
	}
	if code, _ := do("GET", "/api/v3/repos/acme/payments/installation", token); code != 401 {
		t.Errorf("installation lookup with an installation token: got %d, want 401 (JWT only)", code)
	}
	clock.Advance(time.Hour)
	if code, _ := do("POST", "/api/v3/repos/acme/payments/statuses/"+sha("a"), token); code != 401 {
		t.Errorf("status with an expired installation token: got %d, want 401", code)
	}
	// The JWT made an hour ago has expired too.
	if code, _ := do("GET", "/api/v3/app", jwt); code != 401 {
		t.Errorf("GET /app with an expired JWT: got %d, want 401", code)
	}
	long := forges.AppConfig{ID: testAppID, Key: mustAppKey(t), Now: func() time.Time { return clock.Now().Add(5 * time.Minute) }}
	if j, _ := long.JWT(); j != "" {
		if code, _ := do("GET", "/api/v3/app", j); code != 401 {
			t.Errorf("GET /app with a JWT expiring more than ten minutes ahead: got %d, want 401", code)
		}
	}
}

func TestAppAuthenticationRefusals(t *testing.T) {
	ff, clock := appForge(t)
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	head := sha("refused")
	ff.AddCommit(repo.Name, head, nil, "m", "dev")
	st := patchgate.CommitStatus{Context: "patchgate/verdict", State: patchgate.StatusPending}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	err = appClient(t, ff, clock, other).PostStatus(context.Background(), repo, head, st)
	if !strings.Contains(fmt.Sprint(err), "github.private_key_file") {
		t.Errorf("a JWT signed by another key: got %v, want the refusal to name github.private_key_file", err)
	}
	ff.AddCommit("acme/elsewhere", head, nil, "m", "dev")
	err = appClient(t, ff, clock, mustAppKey(t)).PostStatus(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/elsewhere"}, head, st)
	wantCode(t, err, patchgate.ENOTFOUND)
	if !strings.Contains(err.Error(), "not installed on acme/elsewhere") {
		t.Errorf("App not installed: got %v, want it to say so", err)
	}
}

func TestParseAppKey(t *testing.T) {
	k := mustAppKey(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for name, in := range map[string][]byte{"pkcs1": pkcs1, "pkcs8": pkcs8} {
		got, err := forges.ParseAppKey(in)
		if err != nil || !got.Equal(k) {
			t.Errorf("%s: got %v, want the key", name, err)
		}
	}
	if _, err := forges.ParseAppKey([]byte("not a key")); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("garbage: got %v, want EINVALID", err)
	}
}

// TestAppLoginIsTheBot: in App mode patchgate's own comments are the App's
// bot's, so the comment it keeps is found again and edited, not duplicated.
func TestAppLoginIsTheBot(t *testing.T) {
	ff, clock := appForge(t)
	g := appClient(t, ff, clock, mustAppKey(t))
	head := sha("bot")
	ff.AddCommit("acme/payments", head, nil, "m", "dev")
	ff.AddPullRequest("acme/payments", fakeforge.PullRequest{Number: 7, Title: "t", HeadSHA: head, Author: "dev"})
	ch := &patchgate.Change{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: 7, HeadSHA: head}
	for _, body := range []string{"one", "two"} {
		if err := g.UpsertComment(context.Background(), ch, "<!-- m -->", body); err != nil {
			t.Fatalf("UpsertComment: %v", err)
		}
	}
	cs := ff.Comments("acme/payments", 7)
	if len(cs) != 1 || cs[0].Author != "patchgate[bot]" || !strings.Contains(cs[0].Body, "two") {
		t.Errorf("comments: got %+v, want one by patchgate[bot] saying two", cs)
	}
}

func appJWT(t *testing.T, clock *testClock) string {
	t.Helper()
	app := forges.AppConfig{ID: testAppID, Key: mustAppKey(t), Now: clock.Now}
	jwt, err := app.JWT()
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

// BenchmarkAppJWT: the cost of signing one App JWT (RSA 2048), paid once per
// installation token, that is about once an hour per installation.
func BenchmarkAppJWT(b *testing.B) {
	app := forges.AppConfig{ID: testAppID, Key: mustAppKey(b)}
	for b.Loop() {
		if _, err := app.JWT(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppUserLookupFirst: a user lookup (outside any repository) as the
// first call after a start gets a token of one of the App's installations.
func TestAppUserLookupFirst(t *testing.T) {
	ff, clock := appForge(t)
	want := ff.AddUser("alice")
	g := appClient(t, ff, clock, mustAppKey(t))
	got, err := g.UserID(context.Background(), "alice")
	if err != nil || got != want {
		t.Fatalf("UserID(alice) as the first call: got %d, %v, want %d", got, err, want)
	}
	if n := ff.InstallationTokensIssued(); n != 1 {
		t.Errorf("installation tokens: got %d, want 1", n)
	}
}
