package testenv_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestRunCancelledLeavesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		after string // log mark or "" to cancel while provisioning
		spec  func() patchgate.EnvironmentSpec
	}{
		{name: "while the service is not ready", spec: func() patchgate.EnvironmentSpec {
			s := spec("cancel-provision", "true")
			db := postgres()
			db.Ready = []string{"false"}
			s.Services = []patchgate.ServiceSpec{db}
			return s
		}},
		{name: "while the suite runs", after: "running", spec: func() patchgate.EnvironmentSpec {
			s := spec("cancel-run", "echo running; sleep 300")
			s.Services = []patchgate.ServiceSpec{postgres()}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t)
			s := tt.spec()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := newLogBuffer(tt.after)
			errc := make(chan error, 1)
			go func() {
				_, err := r.Run(ctx, s, log)
				errc <- err
			}()
			if tt.after != "" {
				<-log.seen
			} else {
				time.Sleep(3 * time.Second)
			}
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("got error %v, want context.Canceled", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			if c, n := leftovers(t, r.Owner, s.RunID); c+n != 0 {
				t.Errorf("cancelled run left %d containers and %d networks", c, n)
			}
		})
	}
}

func TestRunPanicStillTearsDown(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("panic", "true")
	s.Services = []patchgate.ServiceSpec{postgres()}
	s.Source = func(context.Context) (io.ReadCloser, error) {
		time.Sleep(time.Second) // let the service container exist first
		panic("source exploded")
	}
	func() {
		defer func() {
			if p := recover(); p != "source exploded" {
				t.Errorf("got panic %v, want the Source's", p)
			}
		}()
		r.Run(context.Background(), s, nil)
		t.Error("Run returned, want the Source's panic")
	}()
	if c, n := leftovers(t, r.Owner, s.RunID); c+n != 0 {
		t.Errorf("panicked run left %d containers and %d networks", c, n)
	}
}
