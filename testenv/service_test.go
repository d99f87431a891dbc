package testenv_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// dbTest is a Go test that talks to the db service over PostgreSQL's wire
// protocol with nothing but the standard library: trust authentication, one
// simple query.
const dbTest = `package dbtest

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func message(typ byte, body []byte) []byte {
	var b []byte
	if typ != 0 {
		b = append(b, typ)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)+4))
	return append(b, body...)
}

func TestQuery(t *testing.T) {
	conn, err := net.DialTimeout("tcp", os.Getenv("PGHOST")+":5432", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	startup := binary.BigEndian.AppendUint32(nil, 196608) // protocol 3.0
	startup = append(startup, "user\x00postgres\x00database\x00postgres\x00\x00"...)
	if _, err := conn.Write(message(0, startup)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	read := func() (byte, []byte) {
		typ, err := r.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			t.Fatal(err)
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		if typ == 'E' {
			t.Fatalf("server error: %q", body)
		}
		return typ, body
	}
	for {
		typ, body := read()
		if typ == 'R' && binary.BigEndian.Uint32(body) != 0 {
			t.Fatalf("server asks for authentication method %d", binary.BigEndian.Uint32(body))
		}
		if typ == 'Z' {
			break
		}
	}
	if _, err := conn.Write(message('Q', []byte("select 40 + 2\x00"))); err != nil {
		t.Fatal(err)
	}
	var got string
	for {
		typ, body := read()
		if typ == 'D' { // int16 columns, int32 length, value
			got = string(body[6:])
		}
		if typ == 'Z' {
			break
		}
	}
	if got != "42" {
		t.Fatalf("select 40 + 2: got %q, want 42", got)
	}
	t.Log("postgres answered 42")
}
`

func TestRunGoTestAgainstPostgresService(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("pg", `nc -w 5 db 5432 </dev/null && echo "db reachable" && go test -count=1 -v ./... && printf '<testsuites tests="1"/>' > report.xml`)
	s.Services = []patchgate.ServiceSpec{postgres()}
	s.Env = map[string]string{"PGHOST": "db"}
	s.Source = sourceTar(t,
		file{name: "go.mod", body: "module dbtest\n\ngo 1.26\n"},
		file{name: "db_test.go", body: dbTest},
	)
	s.JUnitPath = "report.xml"
	s.Timeout = 5 * time.Minute
	s.Limits.NanoCPUs = 2e9
	s.Limits.MemoryBytes = 2 << 30
	log := newLogBuffer("")
	res, err := r.Run(context.Background(), s, log)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("got exit %d, want 0; log:\n%s", res.ExitCode, log)
	}
	for _, want := range []string{"db reachable", "postgres answered 42", "--- PASS: TestQuery"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, log)
		}
	}
	if got, want := string(res.JUnit), `<testsuites tests="1"/>`; got != want {
		t.Errorf("got JUnit %q, want %q", got, want)
	}
	if id := res.ImageDigests[postgresImage]; !strings.HasPrefix(id, "sha256:") {
		t.Errorf("got image digest %q for %s, want sha256:…", id, postgresImage)
	}
}

func TestRunInfrastructureFailuresAreErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec func() patchgate.EnvironmentSpec
		want string
	}{
		{name: "runner image missing", want: `image "patchgate-test/absent:1" is not on this Docker host and cannot be pulled; on a host without registry access, load it into the daemon first`,
			spec: func() patchgate.EnvironmentSpec {
				s := spec("missing-image", "true")
				s.Image = "patchgate-test/absent:1"
				return s
			}},
		{name: "service never ready", want: `service "db": not ready after 2s: sh exited 2`,
			spec: func() patchgate.EnvironmentSpec {
				s := spec("never-ready", "true")
				db := postgres()
				db.Ready = []string{"sh", "-c", "exit 2"}
				db.ReadyTimeout = 2 * time.Second
				s.Services = []patchgate.ServiceSpec{db}
				return s
			}},
		{name: "service exits", want: `service "db": exited with code 7 before it was ready: bye`,
			spec: func() patchgate.EnvironmentSpec {
				s := spec("service-exits", "true")
				db := postgres()
				db.Command = []string{"sh", "-c", "echo bye; exit 7"}
				s.Services = []patchgate.ServiceSpec{db}
				return s
			}},
		{name: "source fails", want: "runner: open source: forge down",
			spec: func() patchgate.EnvironmentSpec {
				s := spec("source-fails", "true")
				s.Source = func(context.Context) (io.ReadCloser, error) { return nil, errors.New("forge down") }
				return s
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t)
			s := tt.spec()
			res, err := r.Run(context.Background(), s, newLogBuffer(""))
			if err == nil {
				t.Fatalf("got result %+v, want an error", res)
			}
			t.Logf("error: %v", err)
			if res != nil {
				t.Errorf("got result %+v with error, want nil", res)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
			if code := patchgate.ErrorCode(err); code != patchgate.EINTERNAL {
				t.Errorf("got error code %q, want internal", code)
			}
			if c, n := leftovers(t, r.Owner, s.RunID); c+n != 0 {
				t.Errorf("failed run left %d containers and %d networks", c, n)
			}
		})
	}
}
