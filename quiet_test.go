package lws_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// TestQuietByDefault: a program that embeds the library and changes no log
// setting gets nothing on stderr from a server's start (its "listening
// on" and connection-table notices), a client's round trip and a
// shutdown. Run in a fresh process, where the log mask is the default.
func TestQuietByDefault(t *testing.T) {
	if os.Getenv("LWS_QUIET_CHILD") == "1" {
		quietChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestQuietByDefault$")
	cmd.Env = append(os.Environ(), "LWS_QUIET_CHILD=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !bytes.Contains(stdout.Bytes(), []byte("echoed")) {
		t.Fatalf("the child did not do its round trip; stdout:\n%s", stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("the library wrote to stderr with the default log settings:\n%s", stderr.String())
	}
}

func quietChild() {
	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true,
		OnReceive:  func(c *lws.Conn, msg []byte) { c.Write(msg, lws.WriteText) },
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echo}})
	if err != nil {
		panic(err)
	}
	go svc.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"echo"}})
	if err != nil {
		panic(err)
	}
	if err := cc.WriteMessage(ctx, lws.WriteText, []byte("hi")); err != nil {
		panic(err)
	}
	if _, msg, err := cc.ReadMessage(ctx); err != nil || string(msg) != "hi" {
		panic(err)
	}
	if err := cc.Close(lws.CloseNormal, ""); err != nil {
		panic(err)
	}
	if err := svc.Shutdown(ctx); err != nil {
		panic(err)
	}
	os.Stdout.WriteString("echoed\n")
}
