//go:build unix

package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
)

// runPy runs one scenario of testdata/pyclient.py and decodes its JSON.
func runPy(t *testing.T, py string, port int, path string, args ...string) map[string]any {
	t.Helper()
	url := fmt.Sprintf("ws://127.0.0.1:%d%s", port, path)
	cmd := exec.Command(py, append([]string{"testdata/pyclient.py", args[0], url}, args[1:]...)...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("pyclient %v: %v\n%s%s", args, err, out, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("pyclient %v printed %q: %v", args, out, err)
	}
	return res
}

// TestPythonClient runs Python's websockets against our lws-test-server.
func TestPythonClient(t *testing.T) {
	py := requirePython(t)
	_, port := startServer(t)

	t.Run("subprotocol", func(t *testing.T) {
		for _, tc := range []struct {
			offered, want string
		}{
			{"dumb-increment-protocol", "dumb-increment-protocol"},
			{"lws-mirror-protocol", "lws-mirror-protocol"},
			{"nonesuch,lws-mirror-protocol,dumb-increment-protocol", "lws-mirror-protocol"},
			{"dumb-increment-protocol,lws-mirror-protocol", "dumb-increment-protocol"},
		} {
			res := runPy(t, py, port, "/", "subproto", tc.offered)
			if res["ok"] != true || res["subprotocol"] != tc.want {
				t.Errorf("offered %q: got %v, want subprotocol %q", tc.offered, res, tc.want)
			}
		}
		res := runPy(t, py, port, "/", "subproto", "nonesuch,other")
		if res["ok"] != false || res["status"] != float64(400) {
			t.Errorf("unknown subprotocols: got %v, want refusal with 400", res)
		}
	})

	t.Run("counter", func(t *testing.T) {
		res := runPy(t, py, port, "/", "counter", "3", "1.5")
		msgs := res["messages"].([]any)
		resetAt := res["reset_at"].(float64)
		// ~20 Hz for 3 s: allow a wide band for a loaded machine.
		if len(msgs) < 30 || len(msgs) > 75 {
			t.Fatalf("got %d numbers in 3 s, want about 60", len(msgs))
		}
		prev, resets := -1, 0
		for _, m := range msgs {
			pair := m.([]any)
			n, err := strconv.Atoi(pair[1].(string))
			if err != nil {
				t.Fatalf("message %q is not a number", pair[1])
			}
			switch {
			case n == prev+1:
			case n == 0 && pair[0].(float64) >= resetAt:
				resets++
			default:
				t.Fatalf("counter went from %d to %d at %.3fs (reset sent at %.3fs)", prev, n, pair[0], resetAt)
			}
			prev = n
		}
		if resets != 1 {
			t.Errorf("saw %d restarts from 0 after reset\\n, want 1", resets)
		}
	})

	t.Run("mirror", func(t *testing.T) {
		res := runPy(t, py, port, "/", "mirror", "200")
		sent := res["sent"].([]any)
		for i, recv := range res["received"].([]any) {
			r := recv.([]any)
			if len(r) != len(sent) {
				t.Fatalf("mirror client %d got %d messages, want %d", i, len(r), len(sent))
			}
			for j := range sent {
				if r[j] != sent[j] {
					t.Fatalf("mirror client %d message %d = %q, want %q (order kept)", i, j, r[j], sent[j])
				}
			}
		}
	})

	t.Run("mirror-instances", func(t *testing.T) {
		// ?mirror=<name> instances are separate: traffic in one never
		// reaches another (4.1.6 behaviour).
		res := runPy(t, py, port, "/?mirror=a", "mirror", "20")
		if n := len(res["received"].([]any)[1].([]any)); n != 20 {
			t.Fatalf("instance a: got %d", n)
		}
	})

	t.Run("ping", func(t *testing.T) {
		res := runPy(t, py, port, "/", "ping", "hello ping")
		if res["pong"] != true {
			t.Fatalf("no pong: %v", res)
		}
	})

	t.Run("bad-utf8", func(t *testing.T) {
		for _, tc := range []struct{ first, second string }{
			{"ff", ""},             // invalid byte, message not finished yet: 1007 at once
			{"48656cc3", "28"},     // a 2-byte sequence broken across fragments
			{"e282", "ac41f09f98"}, // valid split then a truncated 4-byte sequence at the end
			{"eda080", "41"},       // a surrogate
		} {
			res := runPy(t, py, port, "/", "badutf8", tc.first, tc.second, "plain")
			if res["close_code"] != float64(1007) {
				t.Errorf("fragments %s|%s: close code %v, want 1007", tc.first, tc.second, res["close_code"])
			}
		}
	})

	t.Run("bad-utf8-compressed", func(t *testing.T) {
		// With permessage-deflate the check runs on the inflated message:
		// complete messages whose text is broken get 1007 too.
		for _, tc := range []struct{ first, second string }{
			{"48656cc3", "28"},
			{"e282", "ac41f09f98"},
			{"eda080", "41"},
		} {
			res := runPy(t, py, port, "/", "badutf8", tc.first, tc.second, "compress")
			if res["close_code"] != float64(1007) {
				t.Errorf("compressed fragments %s|%s: close code %v, want 1007", tc.first, tc.second, res["close_code"])
			}
		}
	})

	t.Run("close-echo", func(t *testing.T) {
		for _, code := range []string{"1000", "1001", "3000", "4321"} {
			res := runPy(t, py, port, "/", "closeecho", code, "bye "+code)
			if res["close_code"] != mustFloat(code) || res["close_reason"] != "bye "+code {
				t.Errorf("close %s: server answered %v %q", code, res["close_code"], res["close_reason"])
			}
		}
	})
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
