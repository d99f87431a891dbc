package patchgate_test

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is patchgate's module path; imports under it are the house's own.
const module = "github.com/patchgate/patchgate"

// layer is a package's room in the house: what it may import follows from it.
type layer string

const (
	layerDomain  layer = "domain"   // the root package: types and pure decisions
	layerPure    layer = "pure"     // pure helpers any room may use (tickets, config)
	layerUseCase layer = "use case" // orchestration of one area each
	layerRunner  layer = "runner"   // executes a planned verification
	layerAdapter layer = "adapter"  // one technology each
	layerServer  layer = "server"   // HTTP: routes, intake, API, dashboard
	layerMain    layer = "main"     // wiring: imports everything
)

// layerOf places a package (its path inside the module, "" for the root).
func layerOf(rel string) layer {
	top, _, _ := strings.Cut(rel, "/")
	switch top {
	case "":
		return layerDomain
	case "tickets", "config":
		return layerPure
	case "usecase":
		return layerUseCase
	case "runners":
		return layerRunner
	case "server":
		return layerServer
	case "cmd":
		return layerMain
	}
	return layerAdapter
}

// family is an adapter with its fakes: forges/fakeforge belongs to forges,
// trackers/jira/fakejira to trackers/jira.
func family(rel string) string {
	parts := strings.Split(rel, "/")
	if parts[0] == "trackers" && len(parts) > 1 {
		return "trackers/" + parts[1]
	}
	return parts[0]
}

// mayImport is the house's one rule as a table: decide in the root package,
// orchestrate in a use case, persist in store, translate in an adapter.
func mayImport(from, to string) bool {
	lf, lt := layerOf(from), layerOf(to)
	switch lf {
	case layerMain:
		return true
	case layerDomain:
		return false
	case layerPure:
		return lt == layerDomain
	case layerUseCase:
		return lt == layerDomain || lt == layerPure || lt == layerUseCase
	case layerRunner:
		return lt == layerDomain || lt == layerPure
	case layerServer:
		// The server verifies and peeks webhooks before it stores them.
		return lt == layerDomain || lt == layerPure || to == "webhooks"
	case layerAdapter:
		return lt == layerDomain || (lt == layerAdapter && family(from) == family(to))
	}
	return false
}

// thirdPartyAllowed says whether a room may import modules from outside the
// standard library and the house: decisions, use cases and runners may not,
// so they stay testable without any technology behind them.
func thirdPartyAllowed(l layer) bool {
	switch l {
	case layerDomain, layerUseCase, layerRunner:
		return false
	}
	return true
}

// TestArchitecture holds the house's rule over every package's non-test
// imports: the root imports only the standard library, adapters import no
// other adapter, use cases import no adapter, and only cmd wires everything.
func TestArchitecture(t *testing.T) {
	pkgs := housePackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("found %d packages; want the whole module", len(pkgs))
	}
	for rel, imports := range pkgs {
		for _, imp := range imports {
			name := rel
			if name == "" {
				name = "patchgate (root)"
			}
			if to, ok := strings.CutPrefix(imp, module); ok {
				to = strings.TrimPrefix(to, "/")
				if !mayImport(rel, to) {
					t.Errorf("%s (%s) imports %s (%s): the rule is decide in root, orchestrate in a use case, persist in store, translate in an adapter", name, layerOf(rel), imp, layerOf(to))
				}
				continue
			}
			first, _, _ := strings.Cut(imp, "/")
			if strings.Contains(first, ".") && !thirdPartyAllowed(layerOf(rel)) {
				t.Errorf("%s (%s) imports %s: a %s uses only the standard library and the house's own packages", name, layerOf(rel), imp, layerOf(rel))
			}
		}
	}
}

// TestMayImport shows the rule catches what it is meant to.
func TestMayImport(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     bool
	}{
		{"root imports nothing of the house", "", "store", false},
		{"a use case reads root", "usecase/gate", "", true},
		{"a use case uses a pure helper", "usecase/linking", "tickets", true},
		{"a use case imports no adapter", "usecase/gate", "store", false},
		{"a use case imports no server", "usecase/gate", "server", false},
		{"an adapter imports no other adapter", "store", "forges", false},
		{"the evidence adapter reads root", "evidence", "", true},
		{"the evidence adapter imports no other adapter", "evidence", "store", false},
		{"a use case signs no pack itself", "usecase/gate", "evidence", false},
		{"a fake belongs to its adapter", "forges/fakeforge", "forges", true},
		{"jira's fake belongs to jira", "trackers/jira/fakejira", "trackers/jira", true},
		{"one tracker imports no other", "trackers/jira", "trackers/youtrack", false},
		{"runners import no adapter", "runners", "testenv", false},
		{"runners import no use case", "runners", "usecase/verification", false},
		{"the server verifies webhooks", "server", "webhooks", true},
		{"the server persists through root interfaces", "server", "store", false},
		{"main wires everything", "cmd/patchgate", "store", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayImport(tt.from, tt.to); got != tt.want {
				t.Errorf("mayImport(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

// housePackages maps every package directory of the module (relative path,
// "" for the root) to its non-test imports.
func housePackages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "docs" || name == "scripts") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			rel = ""
		}
		out[filepath.ToSlash(rel)] = slices.Clone(pkg.Imports)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// maxUseCaseDependencies is how many fields a use case may have: more says
// it does two jobs, and its tests become hard to set up alone.
const maxUseCaseDependencies = 8

// TestUseCasesStaySmall holds every use-case type (a struct of usecase/...
// with a method that takes a context) to at most eight dependencies (its
// exported fields).
func TestUseCasesStaySmall(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob(filepath.Join(root, "usecase", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no use cases under usecase/: %v", err)
	}
	checked := 0
	for _, dir := range dirs {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			fields, services := map[string]int{}, map[string]bool{}
			for _, f := range pkg.Files {
				for _, decl := range f.Decls {
					switch d := decl.(type) {
					case *ast.GenDecl:
						for _, spec := range d.Specs {
							if ts, ok := spec.(*ast.TypeSpec); ok {
								if st, ok := ts.Type.(*ast.StructType); ok {
									// Exported fields are what the caller sets: the
									// dependencies. Unexported ones are the type's state.
									n := 0
									for _, fl := range st.Fields.List {
										if len(fl.Names) == 0 {
											n++
										}
										for _, name := range fl.Names {
											if name.IsExported() {
												n++
											}
										}
									}
									fields[ts.Name.Name] = n
								}
							}
						}
					case *ast.FuncDecl:
						if d.Recv != nil && takesContext(d.Type) {
							services[receiverName(d.Recv.List[0].Type)] = true
						}
					}
				}
			}
			for name := range services {
				n, ok := fields[name]
				if !ok {
					continue
				}
				checked++
				if n > maxUseCaseDependencies {
					rel, _ := filepath.Rel(root, dir)
					t.Errorf("%s.%s has %d dependencies (exported fields); a use case has at most %d: split it", filepath.ToSlash(rel), name, n, maxUseCaseDependencies)
				}
			}
		}
	}
	if checked < 6 {
		t.Errorf("checked %d use-case types; want every one of usecase/", checked)
	}
}

// takesContext reports whether a function's first parameter is a context.Context.
func takesContext(ft *ast.FuncType) bool {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return false
	}
	sel, ok := ft.Params.List[0].Type.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Context"
}

// receiverName is the type name of a method's receiver (T or *T).
func receiverName(e ast.Expr) string {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
