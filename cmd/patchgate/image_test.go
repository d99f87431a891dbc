package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestContainerImage is the deployment issue's proof: the FROM scratch image
// built the supported registry-free way (scripts/docker-local.sh, what `make
// docker-local` runs) starts with the daemon's socket and its group, answers
// /healthz on a published loopback port, and runs a suite in sibling containers
// on the host's daemon. The fake forge listens on the default bridge's gateway,
// so the container reaches it through ordinary bridge networking, as it would
// reach a real forge; nothing leaves this machine. Everything it creates is
// removed.
func TestContainerImage(t *testing.T) {
	requireDocker(t)
	fail := t.Skipf
	if os.Getenv("PATCHGATE_REQUIRE_DOCKER") == "1" {
		fail = t.Fatalf
	}
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			fail("the image test mounts the daemon's socket; DOCKER_HOST=%s is not one", h)
		}
		sock = strings.TrimPrefix(h, "unix://")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil {
		fail("docker socket %s: %v", sock, err)
	}

	id := randomID()
	tag := "patchgate-test/patchgate:e2e-" + id
	name := "patchgate-e2e-" + id
	volume := "patchgate-e2e-" + id
	owner := "image-e2e-" + id

	start := time.Now()
	t.Cleanup(func() { dockerCleanup("rmi", "-f", tag) })
	build := exec.Command("scripts/docker-local.sh", tag)
	build.Dir = "../.."
	build.Env = append(os.Environ(), "VERSION=e2e-"+id)
	out, err := build.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			out = append(out, exit.Stderr...)
		}
		t.Fatalf("scripts/docker-local.sh: %v\n%s", err, out)
	}
	t.Logf("image built in %s: %s", time.Since(start).Round(time.Second), strings.TrimSpace(string(out)))

	// The fake forge, served on the bridge's gateway address as well as on
	// loopback: the address a container on the default bridge reaches the host by.
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	gateway := bridgeGateway(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(gateway, "0"))
	if err != nil {
		t.Fatalf("listen on the bridge gateway %s: %v", gateway, err)
	}
	forgeSrv := &http.Server{Handler: forge, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = forgeSrv.Serve(ln) }()
	t.Cleanup(func() { _ = forgeSrv.Close() })
	forgeURL := "http://" + ln.Addr().String()

	repo := newGitRepo(t, forge, testRepo)
	sha := repo.commit("PAY-7: round half away from zero", map[string][]byte{
		"fix.txt": []byte("fixed\n"),
		".patchgate.yml": []byte(`suites:
  smoke:
    image: patchgate-test/runner:go1.26
    run: test "$(cat fix.txt)" = fixed && echo "smoke suite ran as $(id -u) on $(go version)"
    timeout: 2m
`),
	})

	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", "--tail", "60", name).CombinedOutput()
			t.Logf("patchgate container's last log lines:\n%s", logs)
		}
		dockerCleanup("rm", "-f", "-v", name)
		dockerCleanup("volume", "rm", "-f", volume)
		removeOwnedBy(owner)
	})
	env := map[string]string{
		"PATCHGATE_GITHUB_API_URL":         forgeURL + "/api/v3/",
		"PATCHGATE_GITHUB_WEB_URL":         "https://github.com",
		"PATCHGATE_GITHUB_TOKEN":           "forge-token",
		"PATCHGATE_GITHUB_WEBHOOK_SECRETS": testSecret,
		"PATCHGATE_REPOS":                  `[{"forge":"github","name":"` + testRepo + `","ticket_keys":["PAY"]}]`,
		"PATCHGATE_RUNNERS_OWNER":          owner,
		"PATCHGATE_LOG_FORMAT":             "text",
	}
	args := []string{"run", "-d", "--name", name,
		"-v", sock + ":/var/run/docker.sock", "--group-add", fmt.Sprint(st.Gid),
		"-v", volume + ":/data",
		"-p", "127.0.0.1::8080"}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	dockerCLI(t, append(args, tag)...)
	started := time.Now()

	port := strings.Fields(dockerCLI(t, "port", name, "8080/tcp"))
	if len(port) == 0 {
		t.Fatal("port 8080 is not published")
	}
	url := "http://" + port[0]
	waitContainerHealthy(t, name, url+"/healthz", time.Minute)
	t.Logf("healthy %s after docker run", time.Since(started).Round(10*time.Millisecond))
	if v := dockerCLI(t, "exec", name, "/patchgate", "version"); !strings.Contains(v, "e2e-"+id) {
		t.Errorf("version in the image: got %q, want e2e-%s", v, id)
	}
	checkImageFiles(t, name)

	// An admin token from the CLI in the image, on the server's database, the
	// way an operator makes the first one.
	token := dockerCLI(t, "exec", name, "/patchgate", "token", "create", "--name", "e2e", "--role", "admin")
	app := &testApp{url: url, token: token, forge: forge}
	app.openPR(t, "opened", 7, "PAY-7: fix rounding", "Fixes PAY-7", "fix/PAY-7", sha, "", time.Now())
	v := app.waitVerification(t, sha, final, 3*time.Minute)
	if v.State != patchgate.RunSuccess {
		t.Fatalf("verification through the image: got %s (%s), want success", v.State, v.Reason)
	}
	t.Logf("verified %s after docker run", time.Since(started).Round(10*time.Millisecond))
	if log := runCLI(t, "logs", fmt.Sprint(v.ID), "smoke", "--server", app.url, "--token", app.token); !strings.Contains(log, "smoke suite ran as 1000") {
		t.Errorf("suite log: got %q, want the suite's output", log)
	}
	waitCondition(t, 15*time.Second, "a success verdict posted to the forge", func() bool {
		return lastStatus(forge.Statuses(testRepo, sha), "patchgate/verdict") == "success"
	})
	waitCondition(t, 30*time.Second, "no container or network left with owner "+owner, func() bool {
		return leftovers(t, owner) == ""
	})

	// docker stop sends SIGTERM: patchgate drains and exits 0.
	dockerCLI(t, "stop", "-t", "30", name)
	if code := dockerCLI(t, "inspect", "-f", "{{.State.ExitCode}}", name); code != "0" {
		t.Errorf("exit code after docker stop: got %s, want 0", code)
	}
}

// bridgeGateway is the host's address on Docker's default bridge: the one its
// IPAM names, or else the first IPv4 address of its interface (docker0).
func bridgeGateway(t *testing.T) string {
	t.Helper()
	out := dockerCLI(t, "network", "inspect", "bridge", "-f",
		`{{range .IPAM.Config}}{{.Gateway}} {{end}}{{index .Options "com.docker.network.bridge.name"}}`)
	f := strings.Fields(out)
	if len(f) == 0 {
		t.Fatalf("default bridge: no gateway or interface in %q", out)
	}
	if len(f) > 1 {
		return f[0]
	}
	ifc, err := net.InterfaceByName(f[0])
	if err != nil {
		t.Fatalf("default bridge's interface %s (is the daemon on this host?): %v", f[0], err)
	}
	addrs, _ := ifc.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	t.Fatalf("interface %s has no IPv4 address", f[0])
	return ""
}

// checkImageFiles checks what the scratch image must hold besides the binary:
// the CA bundle for HTTPS to the forges and a /tmp anyone can write.
func checkImageFiles(t *testing.T, name string) {
	t.Helper()
	cmd := exec.Command("docker", "export", name)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	defer stdout.Close()
	want := map[string]int64{"etc/ssl/certs/ca-certificates.crt": 0o644, "tmp/": 0o1777, "etc/passwd": 0o644}
	tr := tar.NewReader(stdout)
	for len(want) > 0 {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if mode, ok := want[h.Name]; ok {
			if h.Mode&0o7777 != mode {
				t.Errorf("image file %s: mode %o, want %o", h.Name, h.Mode&0o7777, mode)
			}
			delete(want, h.Name)
		}
	}
	for f := range want {
		t.Errorf("image file %s: missing", f)
	}
}

// waitContainerHealthy polls url until it answers 200, failing early if the container
// stops.
func waitContainerHealthy(t *testing.T, name, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if running := dockerCLI(t, "inspect", "-f", "{{.State.Running}}", name); running != "true" {
			t.Fatalf("container %s stopped before %s answered", name, url)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s", url, timeout)
}

// waitCondition polls cond until it holds or timeout passes.
func waitCondition(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dockerCLI runs the docker CLI and returns its trimmed standard output.
func dockerCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			out = append(out, exit.Stderr...)
		}
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// dockerCleanup runs the docker CLI for cleanup, where a failure changes nothing.
func dockerCleanup(args ...string) { _ = exec.Command("docker", args...).Run() }

// removeOwnedBy removes the containers and networks labelled with owner, in
// case the run failed before patchgate removed them itself.
func removeOwnedBy(owner string) {
	filter := "label=dev.patchgate.owner=" + owner
	if ids, _ := exec.Command("docker", "ps", "-aq", "--filter", filter).Output(); len(ids) > 0 {
		dockerCleanup(append([]string{"rm", "-f", "-v"}, strings.Fields(string(ids))...)...)
	}
	if ids, _ := exec.Command("docker", "network", "ls", "-q", "--filter", filter).Output(); len(ids) > 0 {
		dockerCleanup(append([]string{"network", "rm"}, strings.Fields(string(ids))...)...)
	}
}
