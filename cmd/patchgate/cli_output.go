package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// addJSONFlag adds --json to a reading command: print what the API answered,
// indented, for scripts, instead of the table for people.
func addJSONFlag(cmd *cobra.Command, asJSON *bool) {
	cmd.Flags().BoolVar(asJSON, "json", false, "print the API's JSON answer instead of a table")
}

// read GETs path; with asJSON it prints the answer indented to w and reports
// done, else it decodes the answer into out for the caller to print.
func (c *apiClient) read(ctx context.Context, path string, asJSON bool, w io.Writer, out any) (done bool, err error) {
	raw, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return false, err
	}
	if asJSON {
		return true, printJSON(w, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, fmt.Errorf("GET %s: decode answer: %w", path, err)
	}
	return false, nil
}

// printJSON writes a JSON document indented, ending in a newline.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("indent JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// writeJSON writes v as indented JSON, for commands that read the database
// rather than the API.
func writeJSON(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return printJSON(w, raw)
}

// newTable returns the writer of a table for people; Flush it at the end.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// when renders a time for a table: UTC to the minute, "-" when unset.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// short shortens a commit SHA for a table.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	if sha == "" {
		return "-"
	}
	return sha
}

// orDash is s, or "-" when it is empty, so that a table keeps its columns.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
