package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// domainPackages are the packages whose sentinel errors can reach the API (directly or wrapped).
var domainPackages = []string{"profile", "signing", "store", "signer", "verify"}

// sentinelsIn lists "pkg.ErrX" for every exported package-level `var ErrX = errors.New(...)` or fmt.Errorf(...) in
// the non-test sources of dir.
func sentinelsIn(t *testing.T, pkg, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() || !strings.HasPrefix(name.Name, "Err") || i >= len(vs.Values) {
						continue
					}
					call, ok := vs.Values[i].(*ast.CallExpr)
					if !ok {
						continue
					}
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && (x.Name+"."+sel.Sel.Name == "errors.New" || x.Name+"."+sel.Sel.Name == "fmt.Errorf") {
							out = append(out, pkg+"."+name.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// mappedNames lists the "pkg.ErrX" expressions that appear in the domainErrors table of errors.go.
func mappedNames(t *testing.T) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "domainErrors" {
			return true
		}
		ast.Inspect(vs, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && slices.Contains(domainPackages, x.Name) {
					out = append(out, x.Name+"."+sel.Sel.Name)
				}
			}
			return true
		})
		return false
	})
	return out
}

// TestEveryDomainErrorMapped: a new sentinel error in a domain package fails here until errors.go says which
// problem it is (a 500 on purpose is fine, but it has to be written down).
func TestEveryDomainErrorMapped(t *testing.T) {
	mapped := mappedNames(t)
	if len(mapped) != len(domainErrors) {
		t.Fatalf("errors.go names %d domain errors but the table has %d entries: parse the table again", len(mapped), len(domainErrors))
	}
	var all []string
	for _, pkg := range domainPackages {
		found := sentinelsIn(t, pkg, filepath.Join("..", pkg))
		if len(found) == 0 {
			t.Fatalf("no sentinel errors found in ../%s: has the package moved?", pkg)
		}
		all = append(all, found...)
	}
	for _, name := range all {
		if !slices.Contains(mapped, name) {
			t.Errorf("%s is not in api/errors.go's domainErrors: the API would answer 500 for it", name)
		}
	}
	for _, name := range mapped {
		if !slices.Contains(all, name) {
			t.Errorf("api/errors.go maps %s, which is not an exported sentinel error of its package (any more)", name)
		}
	}
}

// TestDomainErrorsMapToTheirProblem: each mapped error (and a wrapped one) gets its own entry's status, not an
// earlier entry's that it happens to wrap.
func TestDomainErrorsMapToTheirProblem(t *testing.T) {
	for _, m := range domainErrors {
		t.Run(m.err.Error(), func(t *testing.T) {
			if p := problemFor(m.err); p.Status != m.p.Status || p.Type != m.p.Type {
				t.Errorf("problemFor = %d %s, want %d %s", p.Status, p.Type, m.p.Status, m.p.Type)
			}
			if p := problemFor(wrapped{m.err}); p.Status != m.p.Status {
				t.Errorf("wrapped: problemFor = %d, want %d", p.Status, m.p.Status)
			}
		})
	}
}

type wrapped struct{ err error }

func (w wrapped) Error() string { return "context: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }
