package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the same pure-Go driver patchgate uses
)

// maxBody is patchgate's webhook body limit (server.MaxWebhookBody), repeated
// here so that the baseline reads bodies under the same rule.
const maxBody = 25 << 20

// baseline is what issue 9 measures patchgate's intake against: the handler
// a reasonable developer writes for "verify the HMAC, store the body, answer
// 202" with net/http and SQLite, and nothing else (no routing framework, no
// metrics, no dedup beyond the primary key, no repository check, no
// processor). It uses the SQLite setup of store/db.go: WAL, synchronous
// NORMAL, one writer connection beginning IMMEDIATE, so its commits are as
// durable as patchgate's.
type baseline struct {
	db     *sql.DB
	secret []byte
	srv    *http.Server
	ln     net.Listener
}

// startBaseline opens (creating) the SQLite file at path and serves
// POST /webhooks/github on a loopback port.
func startBaseline(path, secret string) (*baseline, error) {
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("baseline: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS deliveries (
		id TEXT PRIMARY KEY, event TEXT NOT NULL, body BLOB NOT NULL, received_at TEXT NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline: create table: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline: listen: %w", err)
	}
	b := &baseline{db: db, secret: []byte(secret), ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/github", b.handle)
	// The timeouts patchgate's own http.Server sets.
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *baseline) url() string { return "http://" + b.ln.Addr().String() }

func (b *baseline) handle(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-GitHub-Delivery")
	event := r.Header.Get("X-GitHub-Event")
	if id == "" || event == "" {
		http.Error(w, "missing X-GitHub-Delivery or X-GitHub-Event", http.StatusBadRequest)
		return
	}
	if r.ContentLength > maxBody {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	} else if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	mac := hmac.New(sha256.New, b.secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if _, err := b.db.ExecContext(r.Context(),
		`INSERT INTO deliveries (id, event, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		id, event, body, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"delivery":%q,"status":"accepted"}`, id)
}

// count returns how many deliveries the baseline stored.
func (b *baseline) count(ctx context.Context) (int64, error) {
	var n int64
	err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&n)
	return n, err
}

func (b *baseline) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
	_ = b.db.Close()
}
