// Package config reads patchgate's two configuration files with one engine:
// the operator's server file (patchgate.yaml, whose schema lives in
// cmd/patchgate) and a repository's .patchgate.yml (RepoFile). Both are
// parsed into a Document whose nodes keep their lines, read by located typed
// readers, and reported as *Error values naming file, line and dotted key.
// The server file adds ${VAR} expansion over parsed values (ParseTemplate,
// Expand), a schema check by reflection (Check) and PATCHGATE_* variables
// derived from a key table (Key, ApplyEnv).
package config
