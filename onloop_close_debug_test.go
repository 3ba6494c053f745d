//go:build lwsdebug

package lws_test

import (
	"context"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// TestCloseFromCallbackLogged: in a build with the lwsdebug tag, Close and
// Shutdown called on a loop goroutine still do not wait for their own
// loop, and they log an error saying where they were called from.
func TestCloseFromCallbackLogged(t *testing.T) {
	for _, tc := range []struct {
		method string
		stop   func(*lws.Service) error
	}{
		{"Close", (*lws.Service).Close},
		{"Shutdown", func(s *lws.Service) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = cancel // the shutdown outlives the callback; the timeout ends ctx
			return s.Shutdown(ctx)
		}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			errs := captureErrLog(t)
			closeFromCallback(t, 1, tc.stop)
			if errs.find("Service."+tc.method+" called on a loop goroutine") == "" {
				t.Errorf("no ERR line says Service.%s was called on a loop goroutine", tc.method)
			}
		})
	}
}
