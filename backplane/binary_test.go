package backplane_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws/wsproto"
)

// syncBuf is a process's output, written by exec and read by the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServerBinaryMirrorSpans builds lws-test-server-nats, runs two of
// them on one embedded NATS and checks a mirror message sent to one
// reaches a mirror client of the other.
func TestServerBinaryMirrorSpans(t *testing.T) {
	ns := startNATS(t, 0)
	bin := filepath.Join(t.TempDir(), "lws-test-server-nats")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/lws-test-server-nats").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	serving := regexp.MustCompile(`serving http://localhost:(\d+)/`)
	var ports []string
	for i := 0; i < 2; i++ {
		out := &syncBuf{}
		cmd := exec.Command(bin, "-i", "127.0.0.1", "-p", "0", "--nats", ns.ClientURL(), "--nats-prefix", "binary")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start: %v", err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		var m []string
		if !waitFor(20*time.Second, func() bool { m = serving.FindStringSubmatch(out.String()); return m != nil }) {
			t.Fatalf("server %d did not start:\n%s", i, out.String())
		}
		ports = append(ports, m[1])
	}
	// Both servers' subscriptions are on NATS once it counts them.
	if !waitFor(20*time.Second, func() bool { return ns.NumSubscriptions() >= 2 }) {
		t.Fatalf("%d subscriptions on NATS, want 2", ns.NumSubscriptions())
	}
	a := dial(t, fmt.Sprintf("ws://127.0.0.1:%s/?mirror=bin", ports[0]), mirrorProto)
	b := dial(t, fmt.Sprintf("ws://127.0.0.1:%s/?mirror=bin", ports[1]), mirrorProto)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// b is a member of "bin" on its server once its own message comes back.
	if err := b.WriteMessage(ctx, wsproto.OpText, []byte("b here")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := b.ReadMessage(ctx); err != nil || string(msg) != "b here" {
		t.Fatalf("b: %q, %v", msg, err)
	}
	// a, a member of "bin" on server 1 before b sent, gets it through NATS.
	if _, msg, err := a.ReadMessage(ctx); err != nil || string(msg) != "b here" {
		t.Fatalf("client of server 1 read %q, %v; want %q", msg, err, "b here")
	}
	for _, m := range []string{"one", "two", "three"} {
		if err := a.WriteMessage(ctx, wsproto.OpText, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two", "three"} {
		_, msg, err := b.ReadMessage(ctx)
		if err != nil || string(msg) != want {
			t.Fatalf("client of server 2 read %q, %v; want %q", msg, err, want)
		}
	}
	if _, msg, err := a.ReadMessage(ctx); err != nil || string(msg) != "one" {
		t.Fatalf("client of server 1 read %q, %v; want its own %q", msg, err, "one")
	}
}
