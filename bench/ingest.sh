#!/usr/bin/env bash
# Whole-system ingest benchmark: pushes a ../shared/loggen dataset into a
# running logbucket over N connections with ../shared/loader (bodies
# prepared before the clock starts) and prints lines/s, MB/s, server CPU
# seconds and µs per line, peak RSS and bytes on disk. Every acknowledged
# line is fsync'd; the script checks that the log holds exactly the
# dataset's line count afterwards.
#
# If PEER_BIN points at a VictoriaLogs binary you built by hand (never
# committed here), the same dataset is loaded into it in the same run, so
# the two figures are comparable (see ../shared/anchors.md).
#
#   bench/ingest.sh                       # 1M lines, 4 connections
#   LINES=10000000 CONC=4 bench/ingest.sh
#   PEER_BIN=/path/to/victoria-logs bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${SHARED:-$root/../shared}
LINES=${LINES:-1000000}
CONC=${CONC:-4}
WORK=${WORK:-/tmp/logbucket-bench}
DATA=${DATA:-$WORK/logs-$LINES.jsonl}
ADDR=${ADDR:-127.0.0.1:9790}
PEER_ADDR=${PEER_ADDR:-127.0.0.1:9791}
mkdir -p "$WORK/bin"

[[ -f $DATA ]] || go run -C "$shared/loggen" . -n "$LINES" -seed 1 -o "$DATA" -stats "$DATA.stats.json"
go build -o "$WORK/bin/logbucket" ./cmd/logbucket
go build -C "$shared/loader" -o "$WORK/bin/loader" .
lines=$(wc -l <"$DATA")
bytes=$(stat -c %s "$DATA")
tck=$(getconf CLK_TCK)

cpu_s() { awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
hwm_mib() { awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
wait_http() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

# run NAME PID URL DATADIR: load the dataset, print one result line.
run() {
  local name=$1 pid=$2 url=$3 dir=$4 cpu0 out res secs lps mbps cpu1 hwm du
  cpu0=$(cpu_s "$pid")
  out=$("$WORK/bin/loader" -url "$url" -file "$DATA" -c "$CONC" 2>&1)
  cpu1=$(cpu_s "$pid"); hwm=$(hwm_mib "$pid")
  res=$(grep '^RESULT' <<<"$out") || { echo "$out" >&2; return 1; }
  secs=$(sed -n 's/.* seconds=\([^ ]*\).*/\1/p' <<<"$res")
  lps=$(sed -n 's/.* lines_per_s=\([^ ]*\).*/\1/p' <<<"$res")
  mbps=$(sed -n 's/.* mb_per_s=\([^ ]*\).*/\1/p' <<<"$res")
  grep -q ' failed=0 ' <<<"$res" || { echo "$name: some requests failed: $res" >&2; return 1; }
  sleep 1; du=$(du -sb "$dir" | cut -f1)
  awk -v n="$name" -v l="$lines" -v s="$secs" -v lps="$lps" -v mb="$mbps" -v c="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{print b-a}')" \
      -v hwm="$hwm" -v du="$du" 'BEGIN { printf "%-12s %9.0f lines/s %7.2f MB/s  %6.2f s  cpu %6.2f s = %5.2f us/line  peak RSS %7.1f MiB  disk %6.1f B/line\n", n, lps, mb, s, c, c*1e6/l, hwm, du/l }'
}

echo "dataset $DATA: $lines lines, $bytes bytes ($(awk -v b="$bytes" -v l="$lines" 'BEGIN{printf "%.0f", b/l}') B/line), $CONC connections, $(nproc) cores"

rm -rf "$WORK/lb-data"
"$WORK/bin/logbucket" server --data "$WORK/lb-data" --listen "$ADDR" 2>"$WORK/lb.log" &
lb=$!
trap 'kill $lb 2>/dev/null || true; [[ -n ${peer:-} ]] && kill $peer 2>/dev/null || true' EXIT
wait_http "http://$ADDR/readyz"
run logbucket "$lb" "http://$ADDR/api/v1/ingest?bucket=bench&stream_fields=service,host" "$WORK/lb-data"
stored=$(curl -s "http://$ADDR/api/v1/buckets/bench" | sed -n 's/.*"records":\([0-9]*\).*/\1/p')
[[ $stored == "$lines" ]] || { echo "logbucket stored $stored records, want $lines" >&2; exit 1; }
kill -INT $lb; wait $lb || true

if [[ -n ${PEER_BIN:-} ]]; then
  rm -rf "$WORK/peer-data"
  "$PEER_BIN" -httpListenAddr="$PEER_ADDR" -storageDataPath="$WORK/peer-data" -retentionPeriod=100y -futureRetention=100y >"$WORK/peer.log" 2>&1 &
  peer=$!
  wait_http "http://$PEER_ADDR/health"
  run peer "$peer" "http://$PEER_ADDR/insert/jsonline?_stream_fields=service,host&_time_field=_time&_msg_field=_msg" "$WORK/peer-data"
  kill -INT $peer; wait $peer || true
fi
