#!/usr/bin/env bash
# Lists every fuzz target of the library module as "./pkg:FuzzName", one a
# line, for make fuzz. Directories holding a go.mod of their own (bench/,
# browsertest/) are other modules and are left out.
set -eu
cd "$(dirname "$0")/.."
prune=()
while read -r m; do
  prune+=(-path "./$(dirname "${m#./}")" -prune -o)
done < <(find . -mindepth 2 -name go.mod)
find . "${prune[@]}" -path '*/testdata' -prune -o -name '*_test.go' -print | sort | while read -r f; do
  grep -oE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' "$f" | sed -E "s|^func (Fuzz[A-Za-z0-9_]*).*|$(dirname "$f"):\1|"
done | sort -u
