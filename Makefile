# make test: installs missing real peers (as root), vets, runs every test with
# -race, then a short pass of every fuzz target. Keep it well under 15 minutes.
GO      ?= go
FUZZTIME ?= 5s
# package:FuzzTarget pairs run by the short fuzz pass
FUZZ_TARGETS := ./wsproto:FuzzParser ./wsproto:FuzzUTF8 ./httpd:FuzzRequestParser

.PHONY: test peers vet unit fuzz bench build

test: peers vet unit fuzz

peers:
	./scripts/install-peers.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

unit:
	$(GO) test -race -count=1 -timeout 10m ./...
	# allocation assertions need a build without the race detector
	$(GO) test -count=1 -run 'AllocatesNothing|Allocs' ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

build:
	$(GO) build -o bin/ ./cmd/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
