#!/usr/bin/env bash
# Installs the real log clients that test/e2e/clients_*_test.go run against
# the logbucket binary, only when missing or stale:
#   - Debian: syslog-ng-core, syslog-ng-mod-http, syslog-ng-scl (syslog-ng 3.38,
#     run by the tests as a private foreground instance; the image's
#     policy-rc.d keeps apt from starting the system daemon);
#   - npm: the pinned clients of test/clients/package-lock.json (`npm ci`),
#     re-installed when package.json, package-lock.json or Node's major
#     version changed since the last install.
# Running it again changes nothing and takes well under a second. A client
# that cannot be installed fails this script: the tests would fail anyway
# (they skip only with LOGBUCKET_SKIP_CLIENTS=1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
clients="$root/test/clients"

log() { echo "install-client-deps: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# ---------------------------------------------------------------------------
# syslog-ng from Debian

debs=(syslog-ng-core syslog-ng-mod-http syslog-ng-scl)
missing=()
for p in "${debs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  command -v apt-get >/dev/null 2>&1 ||
    die "${missing[*]} missing and apt-get is not available; install syslog-ng 3.x with its http module and SCL by hand"
  [ "$(id -u)" -eq 0 ] ||
    die "${missing[*]} missing and this is not root; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # --no-remove: syslog-ng conflicts with rsyslog (both provide
  # system-log-daemon); never remove another logger behind the user's back.
  apt_install() {
    apt-get install -y -q --no-install-recommends --no-remove \
      -o DPkg::Lock::Timeout=120 "${missing[@]}"
  }
  log "installing ${missing[*]}"
  aptlog=$(mktemp)
  trap 'rm -f "$aptlog"' EXIT
  if ! apt_install >"$aptlog" 2>&1; then
    # The package lists are missing or stale (404 on download): refresh once.
    log "apt-get install failed; running apt-get update and trying again"
    if ! { apt-get update -q -o DPkg::Lock::Timeout=120 && apt_install; } >"$aptlog" 2>&1; then
      cat "$aptlog" >&2
      die "could not install ${missing[*]} with apt-get (output above)"
    fi
  fi
fi
sng=$(command -v syslog-ng || true)
[ -z "$sng" ] && [ -x /usr/sbin/syslog-ng ] && sng=/usr/sbin/syslog-ng
[ -n "$sng" ] || die "syslog-ng is not on PATH nor in /usr/sbin after installing ${debs[*]}"
"$sng" --version >/dev/null 2>&1 || die "$sng --version fails"
[ -f /usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf ] ||
  die "syslog-ng-scl's elasticsearch-http() is missing (/usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf)"

# ---------------------------------------------------------------------------
# npm clients

command -v node >/dev/null 2>&1 || die "node is not installed (Node.js 20 or later is needed for test/clients)"
command -v npm >/dev/null 2>&1 || die "npm is not installed (it comes with Node.js)"
node_version=$(node --version) # v20.20.2
node_major=${node_version#v}
node_major=${node_major%%.*}
[[ "$node_major" =~ ^[0-9]+$ ]] && [ "$node_major" -ge 20 ] ||
  die "node $node_version is too old or unknown: test/clients needs Node.js 20 or later"

# The stamp records what node_modules was installed from; npm ci removes
# node_modules first, so a failed install leaves no stamp.
stamp="$clients/node_modules/.logbucket-install-stamp"
want=$(cat "$clients/package.json" "$clients/package-lock.json" | sha256sum | cut -d' ' -f1)" node$node_major"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci in test/clients"
  # --ignore-scripts: no client needs an install script (the only one,
  # protobufjs's postinstall, just warns about version ranges; snappy's
  # native binding comes prebuilt in @napi-rs/snappy-linux-x64-gnu).
  (cd "$clients" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    die "npm ci in $clients failed"
  echo "$want" >"$stamp"
fi
(cd "$clients" && node -e '
for (const m of ["pino", "pino-loki", "winston", "winston-loki", "@opentelemetry/sdk-logs",
  "@opentelemetry/exporter-logs-otlp-http", "@opentelemetry/exporter-logs-otlp-proto", "@elastic/elasticsearch"]) {
  require.resolve(m)
}') || die "test/clients/node_modules is incomplete; remove it and run this script again"
