#!/usr/bin/env bash
# Runs every fuzz target of the project briefly (FUZZTIME each: an execution
# count such as 20000x, the default, or a duration). Long campaigns:
# FUZZTIME=10m scripts/fuzz-short.sh.
set -euo pipefail
fuzztime=${FUZZTIME:-20000x}
mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' cmd internal | xargs -n1 dirname | sort -u)
for dir in "${pkgs[@]}"; do
  for target in $(grep -h '^func Fuzz' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do
    echo "fuzz $dir $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "./$dir"
  done
done
