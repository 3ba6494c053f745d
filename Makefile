# make test: installs missing real peers (as root), vets and cross-builds,
# runs every test with -race (the stress test's bounded slice with the
# lwsdebug and lwsfault checks), the library's suite again with poll(2) and
# with the portable backend forced, the tests that skip checks under -race
# again without it, then a short pass of every fuzz target (FUZZTIME
# executions each). Keep it well under 15 minutes.
GO      ?= go
# A count, not a duration: Go 1.26's fuzz coordinator can report its own
# -fuzztime deadline as a failure ("context deadline exceeded", no
# crasher written) when a worker is still busy as it expires; a count
# has no deadline to race. make fuzz FUZZTIME=5m for a long run.
FUZZTIME ?= 50000x
# package:FuzzTarget pairs run by make fuzz: every Fuzz function of the
# library module, found by scripts/fuzz-targets.sh (override to pick some)
FUZZ_TARGETS ?= $(shell ./scripts/fuzz-targets.sh)

# the Go modules of the tree: the library, and beside it the modules that
# keep their own dependencies out of its go.mod
MODULES := . browsertest bench backplane examples/prometheus

.PHONY: test peers vet unit fuzz soak soak-backplane bench build stress

# Build tags of the checks make test runs beside the ordinary build:
# lwsdebug makes evloop's loop-ownership assertion (AssertInLoop) panic
# off the loop goroutine, lwsfault lets internal/sockio inject socket
# faults (short reads and writes, EAGAIN, EINTR, resets). Production
# builds have neither.
CHECK_TAGS := lwsdebug,lwsfault

test: peers vet unit fuzz

peers:
	./scripts/install-peers.sh

vet:
	@set -e; for m in $(MODULES); do echo "vet $$m"; (cd $$m && $(GO) vet ./...); done
	$(GO) vet -tags $(CHECK_TAGS) ./...
	# darwin and the BSDs: the library, the test apps and the root tests build
	./scripts/cross-build.sh
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

unit:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -race -count=1 -timeout 10m -skip '^TestStress$$' ./...); done
	# the stress test's bounded slice (fixed seeds, one per cell of its
	# matrix) and the other tests that inject socket faults (TestFault*),
	# with loop-ownership assertions, and the tests of those two
	$(GO) test -race -count=1 -timeout 10m -tags $(CHECK_TAGS) -run '^(TestStress|TestFault.*)$$' .
	$(GO) test -race -count=1 -tags $(CHECK_TAGS) ./internal/sockio ./evloop
	# the library's suite again on each backend besides epoll: poll(2), and
	# the portable backend of Windows (net.Conns served by goroutines),
	# with the race detector; the stress test's slice ran both already
	LWS_TEST_BACKEND=poll $(GO) test -count=1 -skip '^TestStress$$' .
	LWS_TEST_BACKEND=portable $(GO) test -race -count=1 -skip '^TestStress$$' .
	# the tests that skip (part of) their checks under the race detector
	@set -e; list=$$(./scripts/norace-tests.sh); echo "$$list" | while read -r pkg re; do \
		echo "no race: $$pkg $$re"; $(GO) test -count=1 -run "$$re" $$pkg; done

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

build:
	$(GO) build -o bin/ ./cmd/...

# make stress: the stress test (stress_test.go) with fresh seeds for
# STRESS_TIME, under the race detector, with socket faults and
# loop-ownership assertions: random scenarios of server, Service.Connect
# and Dial connections, plain and TLS, permessage-deflate off and on, one
# or two loops, epoll, poll(2) or an external loop, every message checked
# against a model of what was sent. It ends with the number of scenarios,
# messages, bytes and faults checked; a failure prints its seed and the
# command that replays it. Then the backplane's stream model test for as
# long. Not part of make test (which runs a bounded slice), e.g.
# make stress STRESS_TIME=10m.
STRESS_TIME ?= 2m
stress:
	$(GO) test -race -count=1 -timeout 0 -tags $(CHECK_TAGS) -run '^TestStress$$' -v -stress.time=$(STRESS_TIME) .
	# the backplane's durable stream against its model, with NATS
	# restarts, stream loss and client reconnects, for as long
	cd backplane && STRESS_TIME=$(STRESS_TIME) $(GO) test -race -count=1 -timeout 0 -run '^TestStreamModel$$' -v .

# make soak: the churn soak (internal/soak), a few minutes; not part of make
# test. Thousands of connections per cycle open, exchange messages and close
# or abort at random; it prints fds, goroutines and heap per cycle and fails
# when they do not return to the baseline. SOAKFLAGS adds flags, e.g.
# SOAKFLAGS='-cycles 3 -conns 2000'.
SOAKFLAGS ?=
soak:
	$(GO) run -race ./internal/soak $(SOAKFLAGS)

# make soak-backplane: the backplane's durable stream on an embedded
# JetStream against its model for SOAK_TIME: three servers, NATS stopped
# and restarted at random, servers restarted or killed while their clients
# send, clients reconnecting to any server with their positions; it ends
# with a check of the stream itself and the counts of what it sent,
# delivered and checked, duplicated, missing and lost. make stress
# runs the same after the core's stress test.
SOAK_TIME ?= 10m
soak-backplane:
	cd backplane && STRESS_TIME=$(SOAK_TIME) $(GO) test -race -count=1 -timeout 0 -run '^TestStreamModel$$' -v .

# make bench: every echo server (ours, the peers, libwebsockets in C, the raw
# TCP floors) in turn, interleaved, 5 repetitions; writes bench/RESULTS.md and
# bench/chart.svg (about 25 minutes). Five, not three: on the shared 2-core
# machine a server's CPU per message falls into one of two modes run to run
# (the raw floor at 16 KiB x 100 conns: 8.2 or 11.2 us), and a median of
# three draws is often a draw of one mode against the other. Not part of
# make test; BENCHFLAGS adds bench-run flags, e.g. BENCHFLAGS='-reps 1 -only idle'.
BENCHFLAGS ?=
bench:
	./scripts/install-bench.sh
	cd bench && $(GO) run ./cmd/bench-run -reps 5 -out RESULTS.md -chart chart.svg $(BENCHFLAGS)
