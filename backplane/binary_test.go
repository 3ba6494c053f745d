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

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
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

// buildTestServer builds lws-test-server-nats.
func buildTestServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lws-test-server-nats")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/lws-test-server-nats").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var serving = regexp.MustCompile(`serving http://localhost:(\d+)/`)

// runTestServer runs bin with args on 127.0.0.1 and returns its port.
func runTestServer(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out := &syncBuf{}
	cmd := exec.Command(bin, append([]string{"-i", "127.0.0.1", "-p", "0"}, args...)...)
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
		t.Fatalf("server did not start:\n%s", out.String())
	}
	return m[1]
}

// TestServerBinaryMirrorSpans builds lws-test-server-nats, runs two of
// them on one embedded NATS and checks a mirror message sent to one
// reaches a mirror client of the other.
func TestServerBinaryMirrorSpans(t *testing.T) {
	ns := startNATS(t, 0)
	bin := buildTestServer(t)
	var ports []string
	for i := 0; i < 2; i++ {
		ports = append(ports, runTestServer(t, bin, "--nats", ns.ClientURL(), "--nats-prefix", "binary"))
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
	if err := b.WriteMessage(ctx, lws.WriteText, []byte("b here")); err != nil {
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
		if err := a.WriteMessage(ctx, lws.WriteText, []byte(m)); err != nil {
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

// TestServerBinaryDurableMirror runs two lws-test-server-nats
// --nats-durable on an embedded NATS with JetStream: a client of the
// first that drops its connection and reconnects to the second with its
// position gets the strokes it missed, then live ones.
func TestServerBinaryDurableMirror(t *testing.T) {
	js := startJetStream(t)
	bin := buildTestServer(t)
	var urls []string
	start := func(i int) {
		port := runTestServer(t, bin, "--nats", js.url(), "--nats-durable", "--nats-instance", fmt.Sprintf("bin%d", i))
		urls = append(urls, fmt.Sprintf("ws://127.0.0.1:%s/?mirror=bin", port))
	}
	// The reader joins the first server at once, as it starts, possibly
	// before that server has learned the stream's epoch: the positions
	// of its messages must still name it for the recovery below.
	start(0)
	r := dialStream(t, urls[0], "")
	expectEvent(t, r, backplane.At, "")
	start(1)
	// The servers read the stream once a message sent to one comes
	// back on a client of each.
	sender := dial(t, urls[1], mirrorProto)
	send(t, sender, "one")
	expectEvent(t, r, backplane.Message, "one")
	pos := r.Position()
	r.Close(1000, "")
	send(t, sender, "two", "three")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, want := range []string{"one", "two", "three"} { // the sender's own echo
		if _, msg, err := sender.ReadMessage(ctx); err != nil || string(msg) != want {
			t.Fatalf("sender read %q, %v; want %q", msg, err, want)
		}
	}
	r2 := dialStream(t, urls[1], pos)
	expectEvent(t, r2, backplane.Recovered, "")
	expectEvent(t, r2, backplane.Message, "two")
	expectEvent(t, r2, backplane.Message, "three")
	send(t, sender, "four")
	expectEvent(t, r2, backplane.Message, "four")
}
