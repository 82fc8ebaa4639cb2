package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebOpensNoTransactionAndWritesNoAudit keeps the rule of the package
// doc: the web layer reads requests and calls one domain method; opening
// transactions and writing audit records are the domain packages' work. It
// fails on any call of InTx, InsertAudit or InsertAudits in a non-test file
// under internal/web.
func TestWebOpensNoTransactionAndWritesNoAudit(t *testing.T) {
	forbidden := map[string]bool{"InTx": true, "InsertAudit": true, "InsertAudits": true}
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && forbidden[sel.Sel.Name] {
				t.Errorf("%s: %s belongs in a domain service, not in internal/web", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("only %d files of internal/web were read; the walk missed the package", files)
	}
}
