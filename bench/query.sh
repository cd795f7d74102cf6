#!/usr/bin/env bash
# Query benchmark on a ../shared/loggen dataset, the queries a-g of
# ../shared/anchors.md: loads the dataset, waits until every line is
# searchable, lets merges settle, then runs each query 5 times and prints
# the median latency, the answer, peak RSS and bytes on disk per line.
# With PEER_BIN (a VictoriaLogs binary you built by hand, never committed)
# the peer gets the same dataset and queries in the same run.
#
#   bench/query.sh                       # 1M lines
#   LINES=10000000 bench/query.sh
#   PEER_BIN=/path/to/victoria-logs bench/query.sh
#   LB_ARGS=--http.pprof bench/query.sh  # extra logbucket server flags
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${SHARED:-$root/../shared}
LINES=${LINES:-1000000}
WORK=${WORK:-/tmp/logbucket-bench}
DATA=${DATA:-$WORK/logs-$LINES.jsonl}
SETTLE=${SETTLE:-20}
ADDR=${ADDR:-127.0.0.1:9790}
PEER_ADDR=${PEER_ADDR:-127.0.0.1:9791}
mkdir -p "$WORK/bin"
[[ -f $DATA ]] || go run -C "$shared/loggen" . -n "$LINES" -seed 1 -o "$DATA" -stats "$DATA.stats.json"
go build -o "$WORK/bin/logbucket" ./cmd/logbucket
go build -C "$shared/loader" -o "$WORK/bin/loader" .
lines=$(wc -l <"$DATA")
end=$(python3 -c "import json;print(json.load(open('$DATA.stats.json'))['end'])")
lasthour=$(python3 -c "import json;print(json.load(open('$DATA.stats.json'))['last_hour_from'])")

wait_http() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
count() { curl -s "http://$1/select/logsql/query" --data-urlencode 'query=* | stats count() n' | sed -n 's/.*"n":"\([0-9]*\)".*/\1/p'; }
indexer_lag() { curl -s "http://$1/metrics" | awk '/^logbucket_commitlog_consumer_lag_records\{.*group="indexer"/ {s += $2} END {print s + 0}'; }
hwm_mib() { awk '/^VmHWM:/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# timeq ADDR ENDPOINT ARGS...: median of 5 runs in ms, and the last answer.
timeq() {
  local addr=$1 ep=$2; shift 2
  local times=() ans
  for _ in 1 2 3 4 5; do
    times+=("$(curl -s -o "$WORK/ans" -w '%{time_total}' "http://$addr$ep" "$@")")
  done
  ans=$(head -c 120 "$WORK/ans" | tr '\n' ' ')
  printf '%s\t%s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1*1000}')" "$ans"
}

run_queries() {
  local name=$1 addr=$2 korean=$3
  echo "== $name"
  printf 'a needle      %s\n' "$(timeq "$addr" /select/logsql/query --data-urlencode 'query="LBX-NEEDLE-7Q4Z" | stats count() n')"
  printf 'b word count  %s\n' "$(timeq "$addr" /select/logsql/query --data-urlencode 'query=timeout | stats count() n')"
  printf 'c last hour   %s\n' "$(timeq "$addr" /select/logsql/query --data-urlencode 'query={service="payment-service"} level:error' -d limit=1000 -d "start=$lasthour" -d "end=$end" )"
  printf 'd hits 5m     %s\n' "$(timeq "$addr" /select/logsql/hits --data-urlencode 'query=*' -d step=5m -d field=level -d start=2026-01-01T00:00:00Z -d "end=$end")"
  printf 'e korean      %s\n' "$(timeq "$addr" /select/logsql/query --data-urlencode "query=$korean | stats count() n")"
  printf 'f top errors  %s\n' "$(timeq "$addr" /select/logsql/query --data-urlencode 'query=level:error | stats by (service) count() errors | sort by (errors desc) | limit 10')"
  printf 'g trace       %s\n' "$(timeq "$addr" /select/logsql/query --data-urlencode 'query=trace_id:="0badc0de0badc0de0badc0de0badc0de" | stats count() n')"
}

load() { # NAME PID ADDR URL DIR
  local t0 t1
  t0=$(date +%s.%N)
  "$WORK/bin/loader" -url "$4" -file "$DATA" -c 4 | grep RESULT
  until [[ "$(count "$3")" == "$lines" ]]; do sleep 0.2; done
  t1=$(date +%s.%N)
  echo "$1: all $lines lines searchable after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s (bodies prepared in ~0.3 s of it)"
  local wait=$SETTLE
  if [[ $1 == logbucket ]]; then
    # Searchable includes records read from the commit log; wait until the
    # indexer has committed everything too (the queries below then read
    # parts only, as they do once a load is over).
    until [[ "$(indexer_lag "$3")" == 0 ]]; do sleep 0.5; done
    echo "$1: all $lines lines indexed after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
    ready=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v s="$SETTLE" 'BEGIN{printf "%.0f", b-a+s}')
  elif [[ -n ${ready:-} ]]; then
    # The peer's merges run after its ingest too: its queries start as long
    # after its load began as logbucket's did (at least SETTLE after it is
    # searchable), so both had the same time to settle.
    wait=$(awk -v r="$ready" -v a="$t0" -v b="$t1" -v s="$SETTLE" 'BEGIN{w=r-(b-a); printf "%.0f", (w>s?w:s)}')
  fi
  sleep "$wait"
  echo "$1: disk $(du -sb "$5" | awk -v l="$lines" '{printf "%.1f B/line", $1/l}') after ${wait}s"
  if [[ $1 == logbucket ]]; then
    echo "$1: commit log $(du -sb "$(dirname "$5")/buckets" | awk -v l="$lines" '{printf "%.1f B/line", $1/l}') (raw records, kept for the bucket's retention)"
  fi
}

rm -rf "$WORK/lb-data"
# shellcheck disable=SC2086 # LB_ARGS: extra server flags, e.g. --http.pprof
"$WORK/bin/logbucket" server --data "$WORK/lb-data" --listen "$ADDR" ${LB_ARGS:-} 2>"$WORK/lb.log" &
lb=$!
trap 'kill $lb 2>/dev/null || true; [[ -n ${peer:-} ]] && kill $peer 2>/dev/null || true' EXIT
wait_http "http://$ADDR/readyz"
load logbucket $lb "$ADDR" "http://$ADDR/api/v1/ingest?bucket=bench&stream_fields=service,host" "$WORK/lb-data/index"
run_queries logbucket "$ADDR" '결제'
echo "logbucket: peak RSS $(hwm_mib $lb) MiB"
kill -INT $lb; wait $lb || true

if [[ -n ${PEER_BIN:-} ]]; then
  rm -rf "$WORK/peer-data"
  env -u GOGC "$PEER_BIN" -httpListenAddr="$PEER_ADDR" -storageDataPath="$WORK/peer-data" -retentionPeriod=100y -futureRetention=100y >"$WORK/peer.log" 2>&1 &
  peer=$!
  wait_http "http://$PEER_ADDR/health"
  load peer $peer "$PEER_ADDR" "http://$PEER_ADDR/insert/jsonline?_stream_fields=service,host&_time_field=_time&_msg_field=_msg" "$WORK/peer-data"
  run_queries peer "$PEER_ADDR" '~"결제"'
  echo "peer: peak RSS $(hwm_mib $peer) MiB"
  kill -INT $peer; wait $peer || true
fi
