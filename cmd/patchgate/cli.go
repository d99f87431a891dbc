package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"runtime/debug"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/queue"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/people"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// globalFlags are the flags every command shares.
type globalFlags struct {
	configPath string
	database   string
}

func newRootCommand() *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:           "patchgate",
		Short:         "Gate bug-fix releases on evidence",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("PATCHGATE_CONFIG"), "configuration file (YAML); PATCHGATE_* variables override it")
	root.PersistentFlags().StringVar(&g.database, "database", "", "database URL (sqlite://patchgate.db, postgres://…); overrides the configuration")
	root.AddCommand(
		newServeCommand(&g),
		newWorkerCommand(&g),
		newMigrateCommand(&g),
		newTokenCommand(&g),
		newLinkCommand(),
		newTicketCommand(),
		newTicketsCommand(),
		newUnlinkCommand(),
		newVerifyCommand(),
		newVerificationCommand(),
		newLogsCommand(),
		newForgeCommand(&g),
		newReconcileCommand(&g),
		newFlakyCommand(),
		newQuarantineCommand(),
		newConfigCommand(),
		newReleaseCommand(),
		newAuditCommand(&g),
		newReportCommand(),
		newEvidenceCommand(&g),
		newVersionCommand(),
		newDemoCommand(),
	)
	explainArgs(root)
	return root
}

// explainArgs makes every command's argument check say which command wanted
// what and how to call it: cobra's own "accepts 1 arg(s), received 0" names
// neither.
func explainArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return fmt.Errorf("%s: %v; usage: %s (see %s --help)", c.CommandPath(), err, c.UseLine(), c.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		explainArgs(sub)
	}
}

// load reads the configuration the flags name.
func (g *globalFlags) load() (Config, error) {
	env := os.LookupEnv
	if g.database != "" {
		env = func(k string) (string, bool) {
			if k == "PATCHGATE_DATABASE" {
				return g.database, true
			}
			return os.LookupEnv(k)
		}
	}
	cfg, err := LoadConfig(g.configPath, env)
	return cfg, configProblems(g.configPath, err)
}

// configProblems lays several configuration problems out one a line, counted,
// with the command that lists them all.
func configProblems(path string, err error) error {
	errs := splitErrors(err)
	if len(errs) < 2 {
		return err
	}
	check := "patchgate config check --server " + path
	if path == "" {
		check = "patchgate config check --server FILE"
	}
	return fmt.Errorf("%d configuration problems (%s lists them all):\n  %s", len(errs), check,
		strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

// existingDatabase refuses, for the commands that only administer a database
// (token, audit, migrate), an SQLite file that is not there: opening it would
// create an empty database the server never reads, where a new token is
// refused and an audit log "verifies" with no entries.
func existingDatabase(cfg Config) error {
	path, ok := store.SQLiteFile(cfg.Database)
	if !ok {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no patchgate database at %s: pass --config or --database (the server creates its database on its first start: patchgate serve)", path)
	}
	return nil
}

func newServeCommand(g *globalFlags) *cobra.Command {
	var migrate bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server and the workers (embedded SQLite on 127.0.0.1:8080 by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			cfg.Migrate = cfg.Migrate || migrate
			m := NewMain(cfg, newLogger(cfg.Log, os.Stderr))
			m.ConfigPath = g.configPath
			if err := m.Run(cmd.Context()); err != nil {
				return err
			}
			<-cmd.Context().Done()
			m.Logger.Info("shutting down")
			return m.Close()
		},
	}
	cmd.Flags().BoolVar(&migrate, "migrate", false, "apply pending database migrations at start-up")
	return cmd
}

func newMigrateCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if err := existingDatabase(cfg); err != nil {
				return err
			}
			db, err := store.Open(cmd.Context(), cfg.Database)
			if err != nil {
				return fmt.Errorf("open database %s: %w", redactURL(cfg.Database), err)
			}
			defer db.Close()
			n, err := db.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			// A log written before audit keys is keyed now, as part of the upgrade.
			if err := useAuditKey(cmd.Context(), db, cfg, keyWrite, n > 0); err != nil {
				return err
			}
			// River's own tables, by River's migrations.
			if _, err := openQueue(cmd.Context(), db, queue.Config{}); err != nil {
				return err
			}
			v, err := db.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s); schema version %d\n", n, v)
			return nil
		},
	}
}

// withDB opens the configured, current database for an administration command
// that writes.
func withDB(ctx context.Context, g *globalFlags, fn func(db *store.DB) error) error {
	return withDBFor(ctx, g, keyWrite, fn)
}

// withDBFor opens the configured, current database for an administration
// command that uses the audit key as use says.
func withDBFor(ctx context.Context, g *globalFlags, use keyUse, fn func(db *store.DB) error) error {
	cfg, err := g.load()
	if err != nil {
		return err
	}
	if err := existingDatabase(cfg); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), use)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func newTokenCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens (run on the server's database)"}
	var name, role string
	var userFlags, projects []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print its secret once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, hash, err := patchgate.NewTokenSecret()
			if err != nil {
				return err
			}
			users, err := patchgate.ParseForgeUsers(userFlags)
			if err != nil {
				return fmt.Errorf("--user: %w", err)
			}
			tok := &patchgate.Token{Name: name, Role: patchgate.Role(role), Users: users, Projects: projects, Hash: hash}
			if err := tok.Validate(); err != nil {
				return err
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			return withDB(cmd.Context(), g, func(db *store.DB) error {
				// The people a token names are pinned to their forge user
				// ids, asked of the configured forges, as the server does.
				m := &Main{Config: cfg, DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				clients, err := m.forgeClients()
				if err != nil {
					return err
				}
				tokens := &people.Tokens{TokenService: store.NewTokenService(db), People: m.people(clients)}
				if err := tokens.CreateToken(cliActor(cmd.Context()), tok); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %q (%s) created; the secret above is shown only now\n", tok.Name, tok.Role)
				if tok.Role.Allows(patchgate.RoleReleaseManager) && len(tok.Users) == 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: it names no person, so it cannot approve or promote; give --user github:LOGIN / --user gitlab:LOGIN for that\n")
				}
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "token name (who or what holds it)")
	create.Flags().StringVar(&role, "role", string(patchgate.RoleViewer), "viewer, tracker, developer, release-manager or admin")
	create.Flags().StringArrayVar(&userFlags, "user", nil, "the person holding the token, as forge:login (github:alice, gitlab:alice.b); repeat per forge; needed to approve or promote")
	create.Flags().StringSliceVar(&projects, "projects", nil, "limit the token to tickets of these projects (PAY,OPS)")
	_ = create.MarkFlagRequired("name")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd.Context(), g, func(db *store.DB) error {
				tokens, err := store.NewTokenService(db).FindTokens(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), map[string]any{"tokens": tokens})
				}
				if len(tokens) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "no tokens yet — create one: patchgate token create --name NAME --role viewer")
					return nil
				}
				w := newTable(cmd.OutOrStdout())
				fmt.Fprintln(w, "NAME\tROLE\tUSERS\tCREATED\tREVOKED")
				for _, t := range tokens {
					revoked := "-"
					if t.RevokedAt != nil {
						revoked = t.RevokedAt.Format("2006-01-02 15:04")
					}
					users := "-"
					if len(t.Users) > 0 {
						names := make([]string, len(t.Users))
						for i, u := range t.Users {
							// With the pinned forge user id, as stored and
							// audited: github:alice#11.
							names[i] = u.String()
							if u.UserID != 0 {
								names[i] += fmt.Sprintf("#%d", u.UserID)
							}
						}
						users = strings.Join(names, ",")
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, users, t.CreatedAt.Format("2006-01-02 15:04"), revoked)
				}
				return w.Flush()
			})
		},
	}
	addJSONFlag(list, &asJSON)
	list.Flags().Lookup("json").Usage = "print the tokens as JSON instead of a table"
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd.Context(), g, func(db *store.DB) error {
				return store.NewTokenService(db).RevokeToken(cliActor(cmd.Context()), args[0])
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := version
			if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						v += " " + s.Value
					}
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "patchgate", v)
		},
	}
}

// cliActor names who runs an administration command on the database, for the
// audit log: the operating-system user, since no API token is involved.
func cliActor(ctx context.Context) context.Context {
	name := "cli"
	if u, err := user.Current(); err == nil {
		name = "cli:" + u.Username
	}
	return patchgate.NewContextWithPrincipal(ctx, patchgate.Principal{Name: name, Role: patchgate.RoleAdmin})
}
