//go:build lwsfault

package lws_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/wsproto"
)

// The tests of fault_*_test.go need socket faults injected (build tag
// lwsfault; make test runs them with the stress test's slice).

// TestFaultDeflateEcho: compressed messages that inflate to
// many pieces, each followed at once by others, echoed by a server whose
// output backs up past the backpressure mark and drains again at random
// (writes refused with EAGAIN or cut short by fault injection): every
// echo comes back whole and in order, so no newer input is consumed while
// a message's inflation waits on the hold, however the hold ends. Before
// the rule lived in consume, a hold lifted within one read's consumption
// let the next message start and merge into the unfinished one.
func TestFaultDeflateEcho(t *testing.T) {
	for _, reassemble := range []bool{true, false} {
		t.Run(fmt.Sprintf("reassemble=%v", reassemble), func(t *testing.T) {
			before := sockio.InjectedFaults()
			if err := sockio.SetFaults(sockio.Faults{ShortWrite: 0.3, EAGAIN: 0.3, Seed: 7}); err != nil {
				t.Fatal(err)
			}
			defer sockio.SetFaults(sockio.Faults{})
			svc := startService(t, lws.Config{
				Protocols: []*lws.Protocol{deflateEcho(reassemble, &lws.Compression{})},
				// An echo of up to half the buffer is never refused.
				Limits: lws.Limits{WriteBufferSize: 256 << 10},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cc, err := lws.Dial(ctx, fmt.Sprintf("ws://%s/", svc.Addr()), &lws.DialOptions{Compression: &lws.Compression{}})
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close(wsproto.CloseNormal, "")
			r := rand.New(rand.NewPCG(1, 2))
			var msgs [][]byte
			for i := 0; i < 300; i++ {
				size := 1 + r.IntN(300)
				if i%2 == 0 {
					size = 40<<10 + r.IntN(88<<10) // inflates to 2 to 4 pieces of 32 KiB
				}
				msgs = append(msgs, append([]byte(fmt.Sprintf("message %d ", i)), bytes.ToValidUTF8(textPayload(size), nil)...))
			}
			sent := make(chan error, 1)
			go func() {
				for _, m := range msgs {
					if err := cc.WriteMessage(ctx, lws.WriteText, m); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			for i, want := range msgs {
				// Without Reassemble the server echoes the pieces as one
				// fragmented message: ReadMessage gathers it.
				_, got, err := cc.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("echo %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("echo %d: %d bytes starting %q, want %d bytes starting %q", i, len(got), got[:min(len(got), 16)], len(want), want[:16])
				}
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			t.Logf("%d messages echoed; faults: %v", len(msgs), sockio.InjectedFaults().Sub(before))
		})
	}
}
