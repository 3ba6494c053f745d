package lws_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// programModule makes a module in a temporary directory that requires
// this one (by a replace), with each program in a directory of its own,
// and returns its path. It fails when a program imports anything of this
// module but its root package.
func programModule(t *testing.T, programs map[string]string) string {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var requires []string
	for _, line := range strings.Split(string(gomod), "\n") {
		if strings.HasPrefix(line, "require ") {
			requires = append(requires, line)
		}
	}
	mod := fmt.Sprintf("module programs\n\ngo %s\n\nrequire github.com/lws-go/lws v0.0.0\n%s\nreplace github.com/lws-go/lws => %s\n",
		strings.TrimPrefix(runtime.Version(), "go"), strings.Join(requires, "\n"), root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, err := os.ReadFile("go.sum"); err == nil {
		os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
	}
	for name, src := range programs {
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/lws-go/lws/") {
				t.Errorf("%s imports %s: a program should need only github.com/lws-go/lws", name, path)
			}
		}
		pdir := filepath.Join(dir, name)
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pdir, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// goCmd runs the go command in dir, offline.
func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// readmeBlocks returns the ```go blocks of README.md, named by the line
// they start on.
func readmeBlocks(t *testing.T) map[string]string {
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := map[string]string{}
	var cur *bytes.Buffer
	var name string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur, name = &bytes.Buffer{}, fmt.Sprintf("readme_line%d", n)
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks[name] = cur.String()
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: the block never ends", name)
	}
	return blocks
}

// TestReadmeCompiles: every ```go block of README.md is a complete
// program that compiles (and passes go vet) as written, importing
// nothing of this module but its root package.
func TestReadmeCompiles(t *testing.T) {
	blocks := readmeBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d go blocks in README.md, want the server, the client and the net/http program", len(blocks))
	}
	for name, src := range blocks {
		if !strings.HasPrefix(src, "package main\n") {
			t.Errorf("%s: not a complete program (package main):\n%s", name, src)
		}
	}
	goCmd(t, programModule(t, blocks), "vet", "./...")
}

// TestOneImport: a typical program with a server and a client
// (testdata/oneimport) imports only the root package, builds, and runs
// to its end.
func TestOneImport(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "oneimport", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir := programModule(t, map[string]string{"oneimport": string(src)})
	out := goCmd(t, dir, "run", "./oneimport")
	want := "client: text \"hello\"\nclient: binary \"\\x00\\x01\"\nclient: closed 1000 see you\nserver: closed 1000 see you\n"
	if string(out) != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}
