#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, only when missing.
# Today that is Go's module cache (Go itself comes with the machine).
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
  echo "install-test-deps: Go is not installed; install Go 1.26 first" >&2
  exit 1
fi
go mod download
