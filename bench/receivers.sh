#!/usr/bin/env bash
# Receiver benchmark (issue 4 §7): the same ../shared/loggen dataset sent
# to every receiver, each in its own wire format, next to the native
# NDJSON path (/api/v1/ingest), all in one run so that the figures are
# comparable on a shared, noisy machine.
#
# bench/recvload converts the dataset once into request bodies of every
# format (cached under $WORK/recv/$LINES; each body holds the lines of one
# 4 MiB chunk of the input, as ../shared/loader sends them), then for each
# format: a fresh server (fresh data directory; --syslog-tcp for syslog),
# the whole dataset over $CONC connections (every answer checked), a wait
# until the bucket holds every line (the durable figure: lines/s) and
# until `* | stats count()` equals the line count (every line
# searchable). Server CPU comes from /proc/PID/stat (utime+stime), peak
# RSS from VmHWM. The indexer runs in the same process and costs the same
# for every format, so with PROFILE=1 (default) back-to-back CPU profiles
# (--http.pprof) cover the run from before the send until every line is
# searchable, and `recvload split` gives the share of the receiver path
# (reading, decoding, building records, commit-log append, compression,
# fsync) in it: "ingest-path µs/line", the figure the 1.5× target is
# checked against. Ratios are to the mean of the NDJSON runs of the same
# invocation (ndjson runs first and, with BASELINE_AGAIN=1, last again).
#
#   bench/receivers.sh                                 # 1M lines, all formats
#   LINES=100000 bench/receivers.sh                    # other sizes (generated if missing)
#   FORMATS="ndjson loki-proto" bench/receivers.sh     # a subset (ndjson first: the baseline)
#   PROFILE=0 bench/receivers.sh                       # no profiles, /proc figures only
#   CONC=16 bench/receivers.sh                         # connections (default 4)
#
# Also: WORK (default /tmp/logbucket-bench), DATA, ADDR (127.0.0.1:9794),
# SYSLOG_ADDR (127.0.0.1:9795), BASELINE_AGAIN (1), PROF_CHUNK (3 s),
# SEARCHABLE_TIMEOUT (600 s).
#
# Profiles and server logs stay in $WORK/recv/run/FORMAT/ for
# `go tool pprof $WORK/bin/logbucket $WORK/recv/run/FORMAT/cpu.*.pprof`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${SHARED:-$root/../shared}
LINES=${LINES:-1000000}
CONC=${CONC:-4}
WORK=${WORK:-/tmp/logbucket-bench}
DATA=${DATA:-$WORK/logs-$LINES.jsonl}
FORMATS=${FORMATS:-ndjson esbulk loki-json loki-proto otlp-json otlp-proto syslog}
PROFILE=${PROFILE:-1}
BASELINE_AGAIN=${BASELINE_AGAIN:-1} # run ndjson again last; the baseline is the mean of both
PROF_CHUNK=${PROF_CHUNK:-3}  # seconds per CPU profile of the back-to-back series
SEARCHABLE_TIMEOUT=${SEARCHABLE_TIMEOUT:-600}
ADDR=${ADDR:-127.0.0.1:9794}
SYSLOG_ADDR=${SYSLOG_ADDR:-127.0.0.1:9795}
BUCKET=bench
CONV=$WORK/recv/$LINES
RUN=$WORK/recv/run
mkdir -p "$WORK/bin" "$CONV"
t_start=$(date +%s)

[[ -f $DATA ]] || go run -C "$shared/loggen" . -n "$LINES" -seed 1 -o "$DATA" -stats "$DATA.stats.json"
go build -o "$WORK/bin/logbucket" ./cmd/logbucket
go build -o "$WORK/bin/recvload" ./bench/recvload
lines=$(wc -l <"$DATA")
tck=$(getconf CLK_TCK)

# Convert once: the cache is keyed on the dataset and the converter's source.
stamp="$(stat -c '%s %Y' "$DATA") $(cat bench/recvload/convert.go | sha256sum | cut -c1-16)"
need=()
for f in $FORMATS; do
  [[ -f $CONV/$f/manifest.json && "$(cat "$CONV/$f/stamp" 2>/dev/null)" == "$stamp" ]] || need+=("$f")
done
if ((${#need[@]})); then
  echo "converting $DATA to ${need[*]} (once; cached in $CONV)"
  "$WORK/bin/recvload" convert -in "$DATA" -out "$CONV" -format "$(IFS=,; echo "${need[*]}")"
  for f in "${need[@]}"; do echo "$stamp" >"$CONV/$f/stamp"; done
fi

cpu_s() { awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }
hwm_mib() { awk '/^VmHWM:/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
wait_http() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }
count() { curl -s "http://$ADDR/select/logsql/query?bucket=$BUCKET" --data-urlencode 'query=* | stats count() n' | sed -n 's/.*"n":"\([0-9]*\)".*/\1/p'; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# prof_loop DIR: back-to-back CPU profiles until DIR/stop exists.
prof_loop() {
  local i=0
  while [[ ! -e $1/stop ]]; do
    curl -sf -o "$1/cpu.$(printf %03d $i).pprof" "http://$ADDR/debug/pprof/profile?seconds=$PROF_CHUNK" || break
    i=$((i + 1))
  done
}

lb='' ploop=''
cleanup() {
  [[ -n $ploop ]] && kill "$ploop" 2>/dev/null || true
  [[ -n $lb ]] && kill "$lb" 2>/dev/null || true
}
trap cleanup EXIT

results=() stagerows=()
# run FORMAT [LABEL]: one fresh server, the whole dataset, one result line.
run() {
  local f=$1 label=${2:-$1} dir=$RUN/${2:-$1} url='' args=() sys=() res t0 t1 t2 c0 c1 c2 c3 split='' ingest=NA
  rm -rf "$dir" && mkdir -p "$dir"
  case $f in
    ndjson) url="http://$ADDR/api/v1/ingest?bucket=$BUCKET&stream_fields=service,host" ;;
    esbulk) url="http://$ADDR/_bulk" ;; # the actions name _index bench; stream fields: the bucket's
    loki-*) url="http://$ADDR/loki/api/v1/push?bucket=$BUCKET" ;;
    otlp-*) url="http://$ADDR/v1/logs?bucket=$BUCKET" ;;
    syslog) sys=(--syslog-tcp "$SYSLOG_ADDR" --syslog-bucket "$BUCKET") ;;
    *) echo "unknown format $f" >&2; return 1 ;;
  esac
  if [[ -n $url ]]; then args=(-url "$url"); else args=(-syslog-tcp "$SYSLOG_ADDR"); fi
  # Every server gets the stream fields service,host as the default of its
  # buckets: Elasticsearch _bulk takes the bucket's (Loki, OTLP and syslog
  # bring their own; NDJSON also names them in the URL).
  "$WORK/bin/logbucket" server --data "$dir/data" --listen "$ADDR" --http.pprof \
    --bucket-defaults.stream-fields service,host "${sys[@]}" 2>"$dir/server.log" &
  lb=$!
  wait_http "http://$ADDR/readyz"
  if [[ -n ${sys[*]} ]]; then
    for _ in $(seq 1 100); do grep -q 'syslog listening' "$dir/server.log" && break; sleep 0.1; done
  fi
  c0=$(cpu_s "$lb")
  if ((PROFILE)); then prof_loop "$dir" & ploop=$!; sleep 0.2; fi
  t0=$(now)
  res=$("$WORK/bin/recvload" send -dir "$CONV/$f" "${args[@]}" -c "$CONC" -wait-url "http://$ADDR/api/v1/buckets/$BUCKET" | grep '^RESULT')
  t1=$(now); c1=$(cpu_s "$lb")
  local n=0
  until [[ "$(count)" == "$lines" ]]; do
    sleep 0.5; n=$((n + 1))
    ((n < 2 * SEARCHABLE_TIMEOUT)) || { echo "$label: count() is $(count) after ${SEARCHABLE_TIMEOUT}s, want $lines" >&2; return 1; }
  done
  t2=$(now); c2=$(cpu_s "$lb")
  local hwm; hwm=$(hwm_mib "$lb")
  if ((PROFILE)); then touch "$dir/stop"; wait "$ploop" || true; ploop=''; fi
  c3=$(cpu_s "$lb")
  kill -INT "$lb"; wait "$lb" || true; lb=''
  [[ $(kv lines "$res") == "$lines" && $(kv failed "$res") == 0 ]] || { echo "$f: $res" >&2; return 1; }
  if ((PROFILE)) && compgen -G "$dir/cpu.*.pprof" >/dev/null; then
    "$WORK/bin/recvload" split -top 15 "$dir"/cpu.*.pprof >"$dir/split.txt"
    split=$(grep '^SPLIT' "$dir/split.txt")
    # The receiver path's share of the profiled CPU, times the CPU /proc
    # reports for the profiled window (from before the send until the
    # last profile ended, a little after every line was searchable).
    ingest=$(awk -v i="$(kv ingest_s "$split")" -v t="$(kv total_s "$split")" -v c="$(sub "$c0" "$c3")" -v l="$lines" \
      'BEGIN{ if (t > 0) printf "%.2f", i / t * c * 1e6 / l; else print "NA" }')
    stagerows+=("$(grep '^STAGES' "$dir/split.txt" | awk -v f="$label" -v t="$(kv total_s "$split")" -v c="$(sub "$c0" "$c3")" -v l="$lines" '{
      printf "| %s |", f
      for (i = 2; i <= NF; i++) { split($i, kv, "="); printf " %.2f |", (t > 0 ? kv[2] / t * c * 1e6 / l : 0) }
    }')")
  fi
  local stored; stored=$(kv stored_seconds "$res")
  local line
  line=$(awk -v f="$label" -v l="$lines" -v s="$stored" -v srch="$(sub "$t0" "$t2")" -v cs="$(sub "$c0" "$c1")" \
    -v ct="$(sub "$c0" "$c2")" -v ing="$ingest" -v hwm="$hwm" -v bb="$(kv body_bytes "$res")" -v rt="$(kv retries "$res")" \
    'BEGIN{ printf "%s %.0f %.2f %.1f %.2f %.2f %s %s %.0f %s", f, l/s, s, srch, cs*1e6/l, ct*1e6/l, ing, hwm, bb/l, rt }')
  results+=("$line")
  echo "$label: $res"
  [[ -n $split ]] && echo "$label: $split (profiled window: $(sub "$c0" "$c3") s CPU by /proc)"
  echo "$label: searchable after $(sub "$t0" "$t2") s; CPU send $(sub "$c0" "$c1") s, until searchable $(sub "$c0" "$c2") s; peak RSS $hwm MiB"
}

echo "dataset $DATA: $lines lines, $CONC connections, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for f in $FORMATS; do run "$f"; done
# The baseline again at the end: the machine's load drifts during a run.
if ((BASELINE_AGAIN)) && [[ ${FORMATS%% *} == ndjson ]]; then run ndjson ndjson-again; fi

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); whole run $(($(date +%s) - t_start)) s"
echo "ratios: to the mean of the ndjson runs (else the first run); target: ingest-path CPU per line <= 1.5x NDJSON's"
printf '%s\n' "${results[@]}" | awk '
  NR == 1 { fi = $7; ft = $6 }
  $1 ~ /^ndjson/ { nb++; si += $7; st += $6 }
  { r[NR] = $0 }
  END {
    if (nb > 0) { bi = si / nb; bt = st / nb } else { bi = fi; bt = ft }
    printf "| format | lines/s | send s | searchable s | CPU µs/line (send) | CPU µs/line (until searchable) | ingest-path µs/line | ratio ingest | ratio until searchable | peak RSS MiB | body B/line | retries | 1.5x |\n"
    printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    for (i = 1; i <= NR; i++) {
      split(r[i], a, " ")
      ri = (a[7] != "NA" && bi != "NA" && bi > 0) ? sprintf("%.2f", a[7] / bi) : "NA"
      ok = (ri == "NA") ? "?" : (ri + 0 <= 1.5 ? "yes" : "NO")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s |\n", a[1], a[2], a[3], a[4], a[5], a[6], a[7], ri, a[6] / bt, a[8], a[9], a[10], ok
    }
  }'
if ((PROFILE)); then
  echo
  echo "ingest path by stage, µs/line (recvload split: the frame nearest the leaf decides)"
  echo "| format | body | decode | build | commitlog | answer | glue |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${stagerows[@]}"
fi
