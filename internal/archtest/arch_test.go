package archtest_test

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/cometchat"
)

const module = "github.com/meetingd/meetingd"

// root is the repository's top directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

// deps returns every package that pattern's packages import, transitively,
// with their own import paths (production code: no test files).
func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, pattern)
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pattern, err, stderr.String())
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	if len(m) == 0 {
		t.Fatalf("go list %s: no packages", pattern)
	}
	return m
}

func under(path, pkg string) bool {
	p := module + "/" + pkg
	return path == p || strings.HasPrefix(path, p+"/")
}

// isTestTooling tells the packages that exist for tests (storetest,
// reportstest, clickhousetest, cometchattest, foldtest…): shared suites may import what
// they test.
func isTestTooling(path string) bool {
	return strings.HasSuffix(path, "test")
}

func TestNeverRules(t *testing.T) {
	httpLibs := []string{"github.com/gofiber/", "github.com/valyala/fasthttp"}
	tests := []struct {
		name   string
		pkg    string
		denied func(dep string) bool
	}{
		{"domain imports no infrastructure", "domain", func(dep string) bool {
			if under(dep, "domain") {
				return false
			}
			if strings.HasPrefix(dep, module+"/") {
				return true // nothing else of meetingd
			}
			if !strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") {
				return false // the standard library
			}
			return !strings.HasPrefix(dep, "github.com/google/uuid")
		}},
		{"eventstore imports no reader", "eventstore", func(dep string) bool {
			for _, reader := range []string{"projections", "reports", "clickhouse", "api", "notify", "jobs", "intake"} {
				if under(dep, reader) {
					return true
				}
			}
			return false
		}},
		{"projections imports no HTTP", "projections", func(dep string) bool {
			return under(dep, "api") || hasAnyPrefix(dep, httpLibs)
		}},
		{"projections imports no ClickHouse", "projections", func(dep string) bool {
			return under(dep, "clickhouse") || strings.HasPrefix(dep, "github.com/ClickHouse/")
		}},
		{"clickhouse imports no HTTP", "clickhouse", func(dep string) bool {
			return under(dep, "api") || hasAnyPrefix(dep, httpLibs)
		}},
		{"notify imports neither the API nor the projection runner", "notify", func(dep string) bool {
			return under(dep, "api") || under(dep, "projections") || under(dep, "clickhouse") || hasAnyPrefix(dep, httpLibs)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for pkg, ds := range deps(t, "./"+tc.pkg+"/...") {
				if isTestTooling(pkg) {
					continue
				}
				for _, d := range ds {
					if tc.denied(d) {
						t.Errorf("%s imports %s", pkg, d)
					}
				}
			}
		})
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// maxDocLines bounds a package doc (doc.go, comment and package clause).
const maxDocLines = 80

func TestPackageDocs(t *testing.T) {
	top := root(t)
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != top && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if !hasGoCode(t, path) {
			return nil
		}
		rel, _ := filepath.Rel(top, path)
		doc := filepath.Join(path, "doc.go")
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Errorf("%s: no doc.go", rel)
			return nil
		}
		if n := bytes.Count(src, []byte("\n")); n > maxDocLines {
			t.Errorf("%s/doc.go: %d lines, more than %d (history and measurements belong in docs/)", rel, n, maxDocLines)
		}
		f, err := parser.ParseFile(token.NewFileSet(), doc, src, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s/doc.go: %v", rel, err)
			return nil
		}
		if f.Doc == nil || strings.TrimSpace(f.Doc.Text()) == "" {
			t.Errorf("%s/doc.go: no package comment directly above the package clause", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hasGoCode reports whether dir holds Go files other than tests.
func hasGoCode(t *testing.T, dir string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}

// TestDomainNamesNoTrigger: no string in the domain's code (tests and
// their stored-event data aside) is one of CometChat's trigger names.
func TestDomainNamesNoTrigger(t *testing.T) {
	triggers := map[string]bool{}
	for _, tr := range cometchat.Triggers {
		triggers[string(tr)] = true
	}
	if len(triggers) == 0 {
		t.Fatal("cometchat.Triggers is empty")
	}
	dir := filepath.Join(root(t), "domain")
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && triggers[v] {
				t.Errorf("%s names CometChat's trigger %q", fset.Position(lit.Pos()), v)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
