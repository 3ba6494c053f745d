//go:build unix

package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var (
	fraggleListeningRE = regexp.MustCompile(`lws-test-fraggle: server listening on port (\d+)`)
	fraggleSentRE      = regexp.MustCompile(`(?m)^sent message of (\d+) bytes in (\d+) frames, sum 0x([0-9a-f]{8})$`)
	fraggleEOMRE       = regexp.MustCompile(`^EOM received (\d+) correctly from (\d+) fragments$`)
	fraggleErrorRE     = regexp.MustCompile(`ERROR`)
)

// fraggleSent is one message the fraggle server reports it sent.
type fraggleSent struct {
	length, frames int
	sum            uint32
}

// startFraggleServer runs our lws-test-fraggle server on a free port.
func startFraggleServer(t *testing.T, args ...string) (*proc, int) {
	t.Helper()
	p := start(t, app(t, "lws-test-fraggle"), append([]string{"-p", "0"}, args...)...)
	if !p.waitFor(30*time.Second, fraggleListeningRE.MatchString) {
		t.Fatalf("lws-test-fraggle did not start listening:\n%s", p.Output())
	}
	port, _ := strconv.Atoi(fraggleListeningRE.FindStringSubmatch(p.Output())[1])
	return p, port
}

// sentMessages parses the server's "sent" lines, in order.
func sentMessages(out string) []fraggleSent {
	var sent []fraggleSent
	for _, m := range fraggleSentRE.FindAllStringSubmatch(out, -1) {
		l, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		s, _ := strconv.ParseUint(m[3], 16, 32)
		sent = append(sent, fraggleSent{l, f, uint32(s)})
	}
	return sent
}

// TestFraggle runs our lws-test-fraggle client against our fraggle server
// for 30 messages each with a receive buffer smaller than most frames
// (512 bytes: a frame arrives in up to 16 pieces) and one larger than any
// frame (64 KiB). The server sums what it sends, the client what it
// receives; every client line must say "correctly" (the sums agree), and
// the messages it counted must be the ones the server reports sending, each
// in at least as many receive callbacks as it had frames.
func TestFraggle(t *testing.T) {
	const messages = 30
	for _, rx := range []int{512, 65536} {
		t.Run(fmt.Sprintf("rx%d", rx), func(t *testing.T) {
			srv, port := startFraggleServer(t, "-b", strconv.Itoa(rx))
			cl := start(t, app(t, "lws-test-fraggle"), "-c", "-n", strconv.Itoa(messages), "-b", strconv.Itoa(rx),
				"-p", strconv.Itoa(port), "127.0.0.1")
			select {
			case <-cl.done:
			case <-time.After(3 * time.Minute):
				t.Fatalf("client did not finish %d messages in 3 minutes", messages)
			}
			out := cl.Output()
			if code := cl.cmd.ProcessState.ExitCode(); code != 0 {
				t.Fatalf("client exit %d", code)
			}
			if errs := matches(out, fraggleErrorRE); len(errs) > 0 {
				t.Fatalf("client reported %d errors, first: %s", len(errs), errs[0][0])
			}
			eom := matches(out, fraggleEOMRE)
			if len(eom) != messages {
				t.Fatalf("client printed %d EOM lines, want %d", len(eom), messages)
			}
			var sent []fraggleSent
			srv.waitFor(30*time.Second, func(out string) bool {
				sent = sentMessages(out)
				return len(sent) >= messages
			})
			if len(sent) < messages {
				t.Fatalf("server reported %d messages sent, want at least %d", len(sent), messages)
			}
			total, pieces, frames := 0, 0, 0
			for i, m := range eom {
				n, _ := strconv.Atoi(m[1])
				k, _ := strconv.Atoi(m[2])
				if n != sent[i].length {
					t.Fatalf("message %d: client got %d bytes, server sent %d", i, n, sent[i].length)
				}
				if k < sent[i].frames || k < (n+rx-1)/rx {
					t.Fatalf("message %d: %d bytes in %d frames came in only %d receive callbacks (rx buffer %d)", i, n, sent[i].frames, k, rx)
				}
				total += n
				pieces += k
				frames += sent[i].frames
			}
			t.Logf("rx buffer %d: %d messages, %d bytes, %d frames, %d receive callbacks, all sums correct", rx, messages, total, frames, pieces)
		})
	}
}

// TestFragglePythonClient: Python's websockets, as the client of our
// fraggle server, puts each fragmented message together itself; its sum of
// the message must equal the server's 4-byte sum, and the lengths and sums
// must be the ones the server reports sending.
func TestFragglePythonClient(t *testing.T) {
	const messages = 30
	py := requirePython(t)
	srv, port := startFraggleServer(t)
	cmd := exec.Command(py, "testdata/pyfraggle.py", fmt.Sprintf("ws://127.0.0.1:%d/", port), strconv.Itoa(messages))
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("pyfraggle: %v\n%s%s", err, out, stderr)
	}
	var res struct {
		Messages []struct {
			Length    int    `json:"length"`
			Sum       uint32 `json:"sum"`
			ServerSum uint32 `json:"server_sum"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("pyfraggle printed %q: %v", out, err)
	}
	if len(res.Messages) != messages {
		t.Fatalf("Python got %d messages, want %d", len(res.Messages), messages)
	}
	var sent []fraggleSent
	srv.waitFor(30*time.Second, func(out string) bool {
		sent = sentMessages(out)
		return len(sent) >= messages
	})
	if len(sent) < messages {
		t.Fatalf("server reported %d messages sent, want at least %d", len(sent), messages)
	}
	total := 0
	for i, m := range res.Messages {
		if m.Sum != m.ServerSum {
			t.Fatalf("message %d (%d bytes): Python's sum 0x%08x, the server's 0x%08x", i, m.Length, m.Sum, m.ServerSum)
		}
		if m.Length != sent[i].length || m.Sum != sent[i].sum {
			t.Fatalf("message %d: Python got %d bytes sum 0x%08x, server sent %d bytes sum 0x%08x", i, m.Length, m.Sum, sent[i].length, sent[i].sum)
		}
		total += m.Length
	}
	t.Logf("Python websockets: %d messages, %d bytes, every reassembled message matches its sum", messages, total)
}
