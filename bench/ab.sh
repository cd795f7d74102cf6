#!/usr/bin/env bash
# Interleaved A/B of anchor queries on the data directories bench/query.sh
# leaves behind (it needs PEER_BIN there too): both servers run at once and
# each query goes alternately to one and the other, N rounds, so a change in
# the machine's load hits both alike. Prints the medians.
#
#   LINES=10000000 PEER_BIN=/path/to/victoria-logs bench/query.sh   # first
#   PEER_BIN=/path/to/victoria-logs LINES=10000000 N=21 bench/ab.sh
#   QUERIES="c g" bench/ab.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PEER_BIN:?set PEER_BIN to the VictoriaLogs binary query.sh used}"
WORK=${WORK:-/tmp/logbucket-bench}
LINES=${LINES:-1000000}
N=${N:-15}
stats=$WORK/logs-$LINES.jsonl.stats.json
end=$(python3 -c "import json;print(json.load(open('$stats'))['end'])")
lasthour=$(python3 -c "import json;print(json.load(open('$stats'))['last_hour_from'])")
A=127.0.0.1:9790 B=127.0.0.1:9791
"$WORK/bin/logbucket" server --data "$WORK/lb-data" --listen "$A" 2>"$WORK/ab-lb.log" &
lb=$!
env -u GOGC "$PEER_BIN" -httpListenAddr="$B" -storageDataPath="$WORK/peer-data" -retentionPeriod=100y -futureRetention=100y >"$WORK/ab-peer.log" 2>&1 &
peer=$!
trap 'kill $lb $peer 2>/dev/null || true' EXIT
for u in "$A/readyz" "$B/health"; do
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://$u" && break; sleep 0.1; done
done

# q ADDR ID: one query's wall time in seconds.
q() {
  local t=(curl -s -o /dev/null -w '%{time_total}' "http://$1/select/logsql/query")
  case $2 in
    a) "${t[@]}" --data-urlencode 'query="LBX-NEEDLE-7Q4Z" | stats count() n' ;;
    b) "${t[@]}" --data-urlencode 'query=timeout | stats count() n' ;;
    c) "${t[@]}" --data-urlencode 'query={service="payment-service"} level:error' -d limit=1000 -d "start=$lasthour" -d "end=$end" ;;
    f) "${t[@]}" --data-urlencode 'query=level:error | stats by (service) count() errors | sort by (errors desc) | limit 10' ;;
    g) "${t[@]}" --data-urlencode 'query=trace_id:="0badc0de0badc0de0badc0de0badc0de" | stats count() n' ;;
  esac
}
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}'; }

for id in ${QUERIES:-a c f g}; do
  q "$A" "$id" >/dev/null; q "$B" "$id" >/dev/null # warm up
  at=() bt=()
  for _ in $(seq 1 "$N"); do
    at+=("$(q "$A" "$id")")
    bt+=("$(q "$B" "$id")")
  done
  echo "$id  logbucket $(med "${at[@]}") ms  peer $(med "${bt[@]}") ms  (median of $N, interleaved)"
done
