#!/usr/bin/env bash
# Lists the tests that skip all or part of their checks under the race
# detector (their body reads raceEnabled) as "./pkg regexp", one package a
# line, for the non-race pass of make test. Each regexp is checked with
# go test -list to match exactly those tests, so a renamed or moved test
# fails here instead of silently running nowhere. Directories holding a
# go.mod of their own are other modules and are left out.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
prune=()
while read -r m; do
  prune+=(-path "./$(dirname "${m#./}")" -prune -o)
done < <(find . -mindepth 2 -name go.mod)
find . "${prune[@]}" -name '*_test.go' -print | xargs grep -l raceEnabled | xargs -n1 dirname | sort -u | while read -r dir; do
  names=$(awk 'FNR == 1 || /^func / { name = "" } /^func Test[A-Za-z0-9_]*\(/ { name = $2; sub(/\(.*/, "", name) } /raceEnabled/ && name != "" { print name }' "$dir"/*_test.go | sort -u)
  [ -n "$names" ] || continue
  re="^($(echo $names | tr ' ' '|'))\$"
  listed=$($GO test -list "$re" "$dir" | grep -c '^Test' || true)
  want=$(echo $names | wc -w)
  if [ "$listed" != "$want" ]; then
    echo "norace-tests: go test -list finds $listed of the $want tests $re in $dir" >&2
    exit 1
  fi
  echo "$dir $re"
done
