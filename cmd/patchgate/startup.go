package main

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// nextStepRepos is what a server without repositories tells its operator.
const nextStepRepos = "next step: add repos: to the configuration (see README.md#configuration)"

// newLogger builds the process's logger. Format auto is text for a person
// reading a terminal and JSON for anything else (a pipe to a collector, a
// file, journald): what each reader can use without configuring it.
func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Format
	if format == "auto" || format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// isTerminal reports whether w is a character device, as a terminal is. This
// needs no dependency (golang.org/x/term is not in the module graph); its one
// false positive, /dev/null, is harmless: nobody reads what goes there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// databaseLabel says which database a URL names, for the start-up line and
// config check: the SQLite file's absolute path, or PostgreSQL's
// scheme://host/db without user, password or parameters.
func databaseLabel(dsn string) string {
	if path, ok := store.SQLiteFile(dsn); ok {
		if abs, err := filepath.Abs(path); err == nil {
			return abs
		}
		return path
	}
	if u, err := url.Parse(dsn); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host + u.Path
	}
	return redactURL(dsn)
}

// logStarted says, once, what a newcomer needs to check the server is the one
// they meant: where it listens, which database, how many repositories; and
// the next step when it cannot do anything useful yet.
func (m *Main) logStarted(ctx context.Context, addr string, repos int, tokens patchgate.TokenService) {
	m.Logger.Info("patchgate serving", "url", "http://"+addr, "database", databaseLabel(m.Config.Database),
		"repos", repos, "public_url", m.Config.PublicURL, "owner", m.Owner, "instance", m.Instance)
	if repos == 0 {
		m.Logger.Warn("no repositories configured: patchgate has nothing to gate yet", "next_step", nextStepRepos)
	}
	all, err := tokens.FindTokens(ctx)
	if err != nil {
		m.Logger.Warn("list API tokens", "err", err)
		return
	}
	for _, t := range all {
		if t.RevokedAt == nil {
			return
		}
	}
	step := "patchgate token create --name admin --role admin"
	if m.ConfigPath != "" {
		step += " --config " + m.ConfigPath
	}
	m.Logger.Warn("no API token exists: the API answers no one yet", "next_step", "next step: "+step)
}
