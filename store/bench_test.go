package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// benchPayload is the size of a typical GitHub pull_request delivery.
var benchPayload = make([]byte, 16<<10)

// benchDatabases returns the databases BenchmarkCreateDelivery compares: SQLite
// as shipped, SQLite with synchronous=full, SQLite with a single pool (the
// alternative design), and PostgreSQL when PATCHGATE_TEST_POSTGRES_URL is set.
func benchDatabases(b *testing.B) map[string]func(b *testing.B) *store.DB {
	ctx := context.Background()
	sqliteURL := func(b *testing.B, query string) *store.DB {
		db, err := store.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "bench.db")+query)
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	dbs := map[string]func(b *testing.B) *store.DB{
		"sqlite":      func(b *testing.B) *store.DB { return sqliteURL(b, "") },
		"sqlite-full": func(b *testing.B) *store.DB { return sqliteURL(b, "?synchronous=full") },
		"sqlite-onepool": func(b *testing.B) *store.DB {
			db, err := store.OpenSQLiteSinglePool(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			return db
		},
	}
	if base := os.Getenv(envPostgresURL); base != "" {
		dbs["postgres"] = func(b *testing.B) *store.DB { return openPostgresForBench(b, base) }
	}
	return dbs
}

func openPostgresForBench(b *testing.B, base string) *store.DB {
	b.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, base)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("patchgate_bench_%d", time.Now().UnixNano())
	if _, err := admin.SQL().ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.SQL().ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := withSearchPath(base, schema)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// latencies collects per-call durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	q := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkCreateDelivery measures the webhook hot path: storing a new 16 KiB
// delivery. serial is one caller; parallel is GOMAXPROCS×8 concurrent callers (an
// HTTP server under load); paced500 offers 500 deliveries/s, one goroutine per
// delivery, and reports the latency they see.
func BenchmarkCreateDelivery(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"sqlite", "sqlite-full", "sqlite-onepool", "postgres"} {
		open, ok := benchDatabases(b)[name]
		if !ok {
			continue
		}
		setup := func(b *testing.B) *store.DeliveryService {
			db := open(b)
			b.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			return store.NewDeliveryService(db)
		}
		var seq atomic.Int64
		create := func(b *testing.B, s *store.DeliveryService) time.Duration {
			start := time.Now()
			created, err := s.CreateDelivery(ctx, &patchgate.Delivery{Source: patchgate.SourceGitHub,
				ID: strconv.FormatInt(seq.Add(1), 10), Event: "pull_request", Action: "synchronize",
				Repo: "acme/payments", Payload: benchPayload})
			if err != nil || !created {
				b.Errorf("CreateDelivery = %v, %v", created, err)
			}
			return time.Since(start)
		}
		b.Run(name+"/serial", func(b *testing.B) {
			s := setup(b)
			var l latencies
			d := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				d = append(d, create(b, s))
			}
			b.StopTimer()
			l.add(d)
			l.report(b)
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			s := setup(b)
			var l latencies
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var d []time.Duration
				for pb.Next() {
					d = append(d, create(b, s))
				}
				l.add(d)
			})
			b.StopTimer()
			l.report(b)
		})
		b.Run(name+"/paced500", func(b *testing.B) {
			s := setup(b)
			var l latencies
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / 500)
			defer tick.Stop()
			b.ResetTimer()
			for range b.N {
				<-tick.C
				wg.Go(func() { l.add([]time.Duration{create(b, s)}) })
			}
			wg.Wait()
			b.StopTimer()
			l.report(b)
		})
	}
}
