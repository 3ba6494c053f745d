package browsertest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshot = flag.String("screenshot", "", "save the screenshot of the second page to this `file` (default: in the test's artifact directory)")

// TestTestPage opens lws-test-server's test page in two headless Chromium
// tabs and checks the counter, the mirror between the tabs and the
// negotiated extensions.
func TestTestPage(t *testing.T) {
	chromium := requireChromium(t)
	url := startTestServer(t)
	devtools := startChromium(t, chromium)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := newLWSAllocator(ctx, devtools)
	defer cancelAlloc()
	page1, cancel1 := chromedp.NewContext(allocCtx)
	defer cancel1()
	// The second tab's context is made once the first has started the
	// browser: made before, it would attach to the browser's first tab too.
	if err := chromedp.Do(page1); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	page2, cancel2 := chromedp.NewContext(page1) // a second tab of the same browser
	defer cancel2()

	for i, page := range []context.Context{page1, page2} {
		if err := chromedp.Do(page, chromedp.Navigate(url)); err != nil {
			t.Fatalf("page %d: navigate to %s: %v", i+1, url, err)
		}
		waitJS(t, page, `document.getElementById("wsdi_statustd").dataset.state === "open" &&
			document.getElementById("wslm_statustd").dataset.state === "open"`,
			"page %d: both WebSocket connections open", i+1)
	}

	// Two tabs, not one seen twice: otherwise the mirror check below would
	// pass on a page's own echo.
	if id1, id2 := chromedp.FromContext(page1).Target.TargetID, chromedp.FromContext(page2).Target.TargetID; id1 == id2 {
		t.Fatalf("both pages are target %s: the second context did not open a tab", id1)
	}

	// dumb-increment-protocol: the counter on the page advances.
	waitJS(t, page1, `window.lwsTest.diCount() !== null`, "first counter value")
	first := eval[int](t, page1, `window.lwsTest.diCount()`)
	waitJS(t, page1, fmt.Sprintf(`window.lwsTest.diCount() >= %d &&
		parseInt(document.getElementById("number").textContent, 10) >= %d`, first+5, first+5),
		"counter advancing from %d by 5", first)
	shown := eval[string](t, page1, `document.getElementById("number").textContent`)
	t.Logf("counter on page 1: %d, then %s", first, shown)

	// lws-mirror-protocol: strokes sent from page 1 are drawn on page 2.
	const countInk = `(function () {
		var c = document.getElementById("mycanvas");
		var d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		var n = 0;
		for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
		return n;
	})()`
	rx2 := eval[int](t, page2, `window.lwsTest.mirrorRx()`)
	ink2 := eval[int](t, page2, countInk)
	if ink2 != 0 {
		t.Fatalf("page 2's canvas has %d painted pixels before any stroke", ink2)
	}
	// A fan of coloured rays around the canvas's centre.
	colors := []string{"#0000ff", "#ff0000", "#20ff20", "#000000"}
	const strokes = 36
	for i := 0; i < strokes; i++ {
		a := 2 * math.Pi * float64(i) / strokes
		x, y := 250+int(115*math.Cos(a)), 125+int(115*math.Sin(a))
		js := fmt.Sprintf(`document.getElementById("color").value = %q; window.lwsTest.sendStroke(250, 125, %d, %d)`, colors[i%len(colors)], x, y)
		if !eval[bool](t, page1, js) {
			t.Fatalf("page 1: sendStroke found no open mirror connection")
		}
	}
	waitJS(t, page2, fmt.Sprintf(`window.lwsTest.mirrorRx() >= %d`, rx2+strokes),
		"page 2 receiving the %d strokes through the mirror", strokes)
	waitJS(t, page1, fmt.Sprintf(`window.lwsTest.mirrorRx() >= %d`, strokes),
		"page 1 receiving its own %d strokes back", strokes)
	waitJS(t, page2, countInk+` > 0`, "strokes drawn on page 2's canvas")
	ink2 = eval[int](t, page2, countInk)
	t.Logf("page 2: %d painted pixels after %d mirrored strokes", ink2, strokes)

	// Extensions each connection negotiated, as the page saw them.
	type extensions struct{ DI, Mirror string }
	ext := eval[extensions](t, page2, `({DI: window.lwsTest.extensions.di, Mirror: window.lwsTest.extensions.mirror})`)
	t.Logf("negotiated extensions: dumb-increment %q, mirror %q", ext.DI, ext.Mirror)
	checkExtensions(t, ext.DI, ext.Mirror)

	if err := chromedp.Do(page2, chromedp.EmulateViewport(960, 800)); err != nil {
		t.Fatalf("setting the viewport: %v", err)
	}
	png, err := chromedp.Run(page2, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	path := *screenshot
	if path == "" {
		path = filepath.Join(t.ArtifactDir(), "test-page.png")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of page 2 (%d bytes): %s", len(png), path)
}

// checkExtensions asserts what lws-test-server negotiates with a browser,
// which offers permessage-deflate on every connection: the extension on
// lws-mirror-protocol, none on dumb-increment-protocol (as the C test
// server of libwebsockets 4.1.6 does; see internal/testapp/deflate.go).
func checkExtensions(t *testing.T, di, mirror string) {
	t.Helper()
	if !strings.HasPrefix(mirror, "permessage-deflate") {
		t.Errorf("mirror connection: extensions %q, want permessage-deflate negotiated", mirror)
	}
	if di != "" {
		t.Errorf("dumb-increment connection: extensions %q, want none", di)
	}
}

// requireChromium finds Debian's chromium; missing, it skips, or fails
// under CI=true.
func requireChromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (make test installs it: scripts/install-peers.sh)")
	}
	t.Skip("chromium is not installed; run scripts/install-peers.sh as root")
	return ""
}

// output collects a process's stdout and stderr.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(b)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startProcess runs cmd in a process group of its own, stopped when the
// test ends: SIGTERM to the group, SIGKILL after 5 s.
func startProcess(t *testing.T, cmd *exec.Cmd) (*output, <-chan struct{}) {
	t.Helper()
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(cmd.Path), tail(out.String(), 40))
		}
	})
	return out, done
}

var servingRE = regexp.MustCompile(`serving http://localhost:(\d+)/`)

// startTestServer builds and starts cmd/lws-test-server on a free port and
// returns the test page's URL.
func startTestServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lws-test-server")
	build := exec.Command("go", "build", "-race", "-o", bin, "./cmd/lws-test-server")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building lws-test-server: %v\n%s", err, out)
	}
	out, done := startProcess(t, exec.Command(bin, "-p", "0", "-i", "127.0.0.1"))
	var port string
	waitFor(t, 30*time.Second, done, "lws-test-server serving", func() bool {
		m := servingRE.FindStringSubmatch(out.String())
		if m != nil {
			port = m[1]
		}
		return m != nil
	})
	return "http://127.0.0.1:" + port + "/"
}

// startChromium starts headless Chromium with a fresh profile and returns
// its DevTools WebSocket URL, read from the DevToolsActivePort file.
func startChromium(t *testing.T, bin string) string {
	t.Helper()
	profile := t.TempDir()
	_, done := startProcess(t, exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir="+profile, "--remote-debugging-port=0",
		"--window-size=960,900", "about:blank"))
	var url string
	waitFor(t, 60*time.Second, done, "Chromium's DevToolsActivePort file", func() bool {
		b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if err != nil || len(lines) < 2 {
			return false
		}
		url = "ws://127.0.0.1:" + strings.TrimSpace(lines[0]) + strings.TrimSpace(lines[1])
		return true
	})
	return url
}

// waitFor polls cond every 50 ms until it holds; it fails the test when
// the process ends first or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, done <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-done:
			if !cond() {
				t.Fatalf("waiting for %s: the process ended", what)
			}
			return
		case <-deadline:
			t.Fatalf("waiting for %s: not after %v", what, timeout)
		case <-tick.C:
		}
	}
}

// eval evaluates a JavaScript expression on a page.
func eval[T any](t *testing.T, page context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(page, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitJS polls a boolean JavaScript expression every 50 ms until it is
// true, for up to 20 s.
func waitJS(t *testing.T, page context.Context, expr, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(page, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if errors.Is(err, context.DeadlineExceeded) || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s still not true (last error: %v)", fmt.Sprintf(format, args...), expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
