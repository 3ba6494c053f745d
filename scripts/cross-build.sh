#!/usr/bin/env bash
# Builds and vets the library module (library, cmd/ test apps, internal/
# tools, and every package's tests) for the systems it supports besides
# Linux, and compiles the root package's tests for each: darwin (amd64 and
# arm64), FreeBSD, OpenBSD, NetBSD and Windows. Nothing runs there: this
# shows the code builds. What those systems run is run on Linux: the
# portable socket calls of darwin and the BSDs by internal/sockio's tests,
# poll(2) and Windows' portable backend by make test's runs of the suite
# with each forced (LWS_TEST_BACKEND). On Windows the tests that need unix
# calls are left out by their build tags. The other modules (bench/, backplane/,
# browsertest/) are not part of it.
set -eu
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
targets=(darwin/amd64 darwin/arm64 freebsd/amd64 openbsd/amd64 netbsd/amd64 windows/amd64)
failed=()
for t in "${targets[@]}"; do
  export GOOS=${t%/*} GOARCH=${t#*/}
  echo "== $t"
  if go build ./... && go vet ./... && go test -c -o /dev/null .; then
    continue
  fi
  failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "cross-build failed for: ${failed[*]}" >&2
  exit 1
fi
echo "cross-build ok: ${targets[*]}"
