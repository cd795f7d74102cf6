#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, only when missing:
# Go's module cache (Go itself comes with the machine) and the Debian
# package logrotate, which the `logbucket ship` end-to-end test drives.
# Running it again changes nothing.
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
  echo "install-test-deps: Go is not installed; install Go 1.26 first" >&2
  exit 1
fi
go mod download

# logrotate lives in /usr/sbin, which is not on every user's PATH.
if ! command -v logrotate >/dev/null 2>&1 && [ ! -x /usr/sbin/logrotate ] &&
  ! dpkg-query -W -f='${Status}' logrotate 2>/dev/null | grep -q 'install ok installed'; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: logrotate is missing and this is not root; run: sudo apt-get install -y logrotate" >&2
    exit 1
  elif ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: logrotate is missing and apt-get is not available; install logrotate by hand" >&2
    exit 1
  else
    echo "install-test-deps: installing logrotate" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends logrotate >/dev/null ||
      { apt-get update -qq && apt-get install -y --no-install-recommends logrotate >/dev/null; } ||
      { echo "install-test-deps: could not install logrotate (see apt-get's output above)" >&2; exit 1; }
  fi
fi
