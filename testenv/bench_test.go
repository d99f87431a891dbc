package testenv_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// benchSource writes a small source tree (100 files, ~400 KiB) to a directory
// and returns it with a tar of the same tree.
func benchSource(b *testing.B) (dir string, tarball []byte) {
	b.Helper()
	dir = b.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("package x // filler\n"), 200)
	for i := range 100 {
		name := fmt.Sprintf("pkg%d/file%d.go", i%10, i)
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			b.Fatal(err)
		}
		tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, buf.Bytes()
}

// reportMedian reports the median of per-iteration durations, which is what the
// performance target is about, beside the mean that ns/op shows.
func reportMedian(b *testing.B, ds []time.Duration, unit string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(ds[len(ds)/2].Seconds(), unit)
}

// BenchmarkEnvironmentOverhead measures one environment around a suite that
// does nothing: network, a PostgreSQL service ready, the runner created with
// the source copied, started, waited for, collected and torn down.
func BenchmarkEnvironmentOverhead(b *testing.B) {
	r := newRunner(b)
	_, tarball := benchSource(b)
	var total, provision, teardown []time.Duration
	i := 0
	for b.Loop() {
		i++
		s := patchgate.EnvironmentSpec{
			RunID:    fmt.Sprintf("bench-%d", i),
			Image:    runnerImage,
			Command:  "true",
			Services: []patchgate.ServiceSpec{postgres()},
			Source: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(tarball)), nil
			},
		}
		start := time.Now()
		res, err := r.Run(context.Background(), s, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if res.ExitCode != 0 {
			b.Fatalf("got exit %d, want 0", res.ExitCode)
		}
		total = append(total, time.Since(start))
		provision = append(provision, res.Timings.Provision)
		teardown = append(teardown, res.Timings.Teardown)
	}
	reportMedian(b, total, "median-s")
	reportMedian(b, provision, "provision-median-s")
	reportMedian(b, teardown, "teardown-median-s")
}

// BenchmarkEnvironmentOverheadCLI is the same environment scripted with the
// docker CLI (scripts/images/overhead-cli.sh), the baseline of the 1.3× target.
func BenchmarkEnvironmentOverheadCLI(b *testing.B) {
	requireDocker(b)
	dir, _ := benchSource(b)
	script, err := filepath.Abs("../scripts/images/overhead-cli.sh")
	if err != nil {
		b.Fatal(err)
	}
	var total []time.Duration
	for b.Loop() {
		start := time.Now()
		out, err := exec.Command("bash", script, dir).CombinedOutput()
		if err != nil {
			b.Fatalf("%s: %v\n%s", script, err, out)
		}
		total = append(total, time.Since(start))
	}
	reportMedian(b, total, "median-s")
}
