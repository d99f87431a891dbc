package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeService is the part of a docker-compose.yml service these tests read.
type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	GroupAdd    []string          `yaml:"group_add"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// composeInterpolate expands ${VAR}, ${VAR:-default} and ${VAR:?error} the way
// Compose does, from vars.
func composeInterpolate(s string, vars map[string]string) (string, error) {
	var err error
	out := composeVar.ReplaceAllStringFunc(s, func(m string) string {
		p := composeVar.FindStringSubmatch(m)
		v, ok := vars[p[1]]
		set := ok && (v != "" || !strings.HasPrefix(p[2], ":"))
		switch strings.TrimPrefix(p[2], ":") {
		case "-":
			if !set {
				return p[3]
			}
		case "?":
			if !set {
				err = fmt.Errorf("%s: %s", p[1], p[3])
			}
		}
		return v
	})
	return out, err
}

// readCompose reads the repository's docker-compose.yml with vars interpolated
// into the strings these tests look at.
func readCompose(t *testing.T, vars map[string]string) (map[string]composeService, error) {
	t.Helper()
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for name, s := range doc.Services {
		fields := []*string{&s.Image}
		env := make(map[string]string, len(s.Environment))
		for k, v := range s.Environment {
			if env[k], err = composeInterpolate(v, vars); err != nil {
				return nil, err
			}
		}
		s.Environment = env
		for i := range s.Volumes {
			fields = append(fields, &s.Volumes[i])
		}
		for i := range s.GroupAdd {
			fields = append(fields, &s.GroupAdd[i])
		}
		for i := range s.Ports {
			fields = append(fields, &s.Ports[i])
		}
		for _, f := range fields {
			if *f, err = composeInterpolate(*f, vars); err != nil {
				return nil, err
			}
		}
		doc.Services[name] = s
	}
	return doc.Services, nil
}

// configEnvKeys are the PATCHGATE_* variables patchgate reads: every one the
// configuration loader asks for, and PATCHGATE_CONFIG (the --config default).
func configEnvKeys(t *testing.T) []string {
	t.Helper()
	keys := []string{"PATCHGATE_CONFIG"}
	_, _ = LoadConfig("", func(k string) (string, bool) {
		keys = append(keys, k)
		return "", false
	})
	return keys
}

// TestComposeFile checks docker-compose.yml against the configuration loader:
// every PATCHGATE_* key it sets is one patchgate reads, the configuration each
// patchgate service gets is valid, and only the worker has the Docker socket.
func TestComposeFile(t *testing.T) {
	vars := map[string]string{"POSTGRES_PASSWORD": "compose-test", "DOCKER_GID": "998"}
	if _, err := readCompose(t, map[string]string{"DOCKER_GID": "998"}); err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
		t.Errorf("without POSTGRES_PASSWORD: got %v, want an error naming it", err)
	}
	services, err := readCompose(t, vars)
	if err != nil {
		t.Fatal(err)
	}
	known := configEnvKeys(t)
	commands := map[string]string{"migrate": "migrate", "patchgate": "serve", "worker": "worker"}
	for name, command := range commands {
		s, ok := services[name]
		if !ok {
			t.Errorf("service %s: missing", name)
			continue
		}
		if !slices.Equal(s.Command, []string{command}) {
			t.Errorf("service %s: command %v, want [%s]", name, s.Command, command)
		}
		if s.Image != "patchgate:latest" {
			t.Errorf("service %s: image %q, want patchgate:latest", name, s.Image)
		}
		for k := range s.Environment {
			if strings.HasPrefix(k, "PATCHGATE_") && !slices.Contains(known, k) {
				t.Errorf("service %s sets %s, which patchgate does not read", name, k)
			}
		}
		cfg, err := LoadConfig("", func(k string) (string, bool) { v, ok := s.Environment[k]; return v, ok })
		if err != nil {
			t.Errorf("service %s: configuration: %v", name, err)
			continue
		}
		if want := "postgres://patchgate:compose-test@postgres:5432/patchgate?sslmode=disable"; cfg.Database != want {
			t.Errorf("service %s: database %q, want %q", name, cfg.Database, want)
		}
		hasSocket := slices.Contains(s.Volumes, "/var/run/docker.sock:/var/run/docker.sock")
		if runs := name == "worker"; hasSocket != runs || slices.Contains(s.GroupAdd, "998") != runs {
			t.Errorf("service %s: docker socket %v with group %v; only the worker runs suites", name, hasSocket, s.GroupAdd)
		}
		if name != "migrate" && s.DependsOn["migrate"].Condition != "service_completed_successfully" {
			t.Errorf("service %s: starts before the migration has finished", name)
		}
		switch name {
		case "patchgate":
			if cfg.Listen != "0.0.0.0:8080" || cfg.Runners.Workers != 0 || !slices.Contains(s.Ports, "8080:8080") {
				t.Errorf("server: listen %s, %d runners, ports %v; want 0.0.0.0:8080, none, 8080:8080", cfg.Listen, cfg.Runners.Workers, s.Ports)
			}
		case "worker":
			if cfg.Runners.Workers < 1 || cfg.Runners.Owner != "compose-worker-1" {
				t.Errorf("worker: %d runners with owner %q; want at least 1, with a stable owner", cfg.Runners.Workers, cfg.Runners.Owner)
			}
		}
	}
	pg := services["postgres"]
	if pg.Image != "postgres:16" || pg.Environment["POSTGRES_PASSWORD"] != "compose-test" || !slices.Contains(pg.Healthcheck.Test, "pg_isready") {
		t.Errorf("postgres: image %q env %v healthcheck %v", pg.Image, pg.Environment, pg.Healthcheck.Test)
	}
	if services["migrate"].DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("migrate: does not wait for a healthy PostgreSQL")
	}

	// Every variable the file reads is listed in its header.
	raw, _ := os.ReadFile("../../docker-compose.yml")
	header, _, _ := strings.Cut(string(raw), "\nx-")
	for _, m := range composeVar.FindAllStringSubmatch(string(raw), -1) {
		if !strings.Contains(header, m[1]) {
			t.Errorf("docker-compose.yml reads ${%s} but its header does not list it", m[1])
		}
	}
}

// dockerfileStage returns the instructions of a Dockerfile's last stage,
// continuation lines joined and comments dropped.
func dockerfileStage(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" && cur == "" {
			continue
		}
		more := strings.HasSuffix(line, "\\")
		cur += " " + strings.TrimSuffix(line, "\\")
		if more {
			continue
		}
		ins := strings.Join(strings.Fields(cur), " ")
		cur = ""
		if strings.HasPrefix(ins, "FROM ") {
			out = nil
		}
		out = append(out, ins)
	}
	return out
}

// imageShape is what a Dockerfile's last stage makes of the image: its
// settings, and where it copies files to with which owner.
func imageShape(stage []string) []string {
	var out []string
	for _, ins := range stage {
		f := strings.Fields(ins)
		switch f[0] {
		case "COPY":
			chown := ""
			for _, a := range f[1 : len(f)-1] {
				if strings.HasPrefix(a, "--chown=") {
					chown = " " + a
				}
			}
			out = append(out, "COPY "+f[len(f)-1]+chown)
		case "FROM":
		default:
			out = append(out, ins)
		}
	}
	slices.Sort(out)
	return out
}

// TestDockerfilesInStep checks that the multi-stage Dockerfile and the
// registry-free Dockerfile.local make the same image, and that the build
// context leaves out what it must.
func TestDockerfilesInStep(t *testing.T) {
	multi := dockerfileStage(t, "../../Dockerfile")
	local := dockerfileStage(t, "../../Dockerfile.local")
	if multi[0] != "FROM scratch" || local[0] != "FROM scratch" {
		t.Fatalf("final stages: got %q and %q, want FROM scratch", multi[0], local[0])
	}
	if a, b := imageShape(multi), imageShape(local); !slices.Equal(a, b) {
		t.Errorf("Dockerfile and Dockerfile.local differ:\n%s\nvs\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	for _, want := range []string{"USER 65532:65532", "COPY /", "COPY /data --chown=65532:65532", "COPY /patchgate"} {
		if !slices.Contains(imageShape(local), want) {
			t.Errorf("image: no %q", want)
		}
	}
	ignore, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ignore), "\n")
	for _, want := range []string{".git", "bin/", "**/*.db"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore: no %q line", want)
		}
	}
}

// TestMakeDockerPassesVersion checks that the image targets bake VERSION in.
func TestMakeDockerPassesVersion(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", "-n", "docker", "docker-local", "VERSION=v9.8.7")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n: %v\n%s", err, out)
	}
	for _, want := range []string{"--build-arg VERSION=v9.8.7", "VERSION=v9.8.7 scripts/docker-local.sh"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("make -n docker docker-local: got %s, want %q", out, want)
		}
	}
}
