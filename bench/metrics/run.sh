#!/usr/bin/env bash
# bench/metrics: storage and query against VictoriaMetrics and Prometheus, in the same run, on
# this machine, through the same remote-write bytes.
#
# 1. Generates a node-exporter-like dataset once (HOSTS x 100 series, HOURS of 15-second
#    samples: 100 hosts x 24 h = 10,000 series, 57.6 M samples) as Prometheus remote-write
#    bodies (crates/bench/src/bin/tsdb.rs).
# 2. For each system (Watchtrail, VictoriaMetrics, Prometheus from Debian's packages, installed
#    here if missing): start it on loopback with an empty data directory; replay every body
#    over CONCURRENCY connections, a series always on the same connection (as Prometheus
#    shards); read the process's CPU time and peak RSS; wait until the process is idle
#    (under 5 % of a core for a second: its merges and flushes done); time a range query RUNS times
#    (100 series x 24 h at 60 s, average: PromQL avg_over_time(node_load1[60s]) step 60, and
#    GetMetricData SEARCH node_load1 'Average' 60 for Watchtrail); stop it (Watchtrail flushes
#    its head to segments on the way out) and measure its data directory.
# 3. Prints and writes (bench/results/metrics-<time>.md) samples/s, samples per CPU-second,
#    bytes per sample on disk, peak RSS and the query's median latency, with the ratios.
#
# Watchtrail runs with SigV4 on (every body is signed, service aps) and --rollup off (CloudWatch
# would roll 15-second data older than 3 hours up to 1 minute, which would make its bytes per
# sample incomparable). VictoriaMetrics runs with -search.disableCache so repeated queries are
# computed each time, as in the others.
#
# Usage: bench/metrics/run.sh     Knobs: HOSTS=100 HOURS=24 CONCURRENCY=4 RUNS=11 SKIP_BUILD=0
# Every process started here listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOSTS="${HOSTS:-100}"
HOURS="${HOURS:-24}"
CONCURRENCY="${CONCURRENCY:-4}"
RUNS="${RUNS:-11}"
SKIP_BUILD="${SKIP_BUILD:-0}"
TSDB="$ROOT/target/release/tsdb-bench"
SERVER="$ROOT/target/release/watchtrail"
AKID="AKIABENCHMETRICS0001"
SECRET="bench-metrics-secret-key-not-for-use-0001"

log() { printf '[metrics] %s\n' "$*" >&2; }

PIDS=()
WORK=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$WORK" ] && [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

if ! command -v victoria-metrics >/dev/null || ! command -v prometheus >/dev/null; then
  log "installing victoria-metrics and prometheus from Debian's packages"
  if [ "$(id -u)" != 0 ]; then
    echo "bench/metrics: victoria-metrics and prometheus are missing and this is not root; install them with apt-get" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends victoria-metrics prometheus >&2
fi
if [ "$SKIP_BUILD" != 1 ]; then
  log "building (release)"
  (cd "$ROOT" && cargo build --release --locked -p watchtrail -p watchtrail-bench >&2)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/watchtrail-bench-metrics.XXXXXX")"
END=$(( $(date +%s) / 60 * 60 ))
log "generating $HOSTS hosts x 100 series x $HOURS h at 15 s"
GEN="$("$TSDB" generate --out "$WORK/data.bin" --hosts "$HOSTS" --hours "$HOURS" --end "$END")"
log "dataset: $GEN"
SAMPLES=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["samples"])' "$GEN")
QSTART=$(( END - 86400 < END - HOURS * 3600 ? END - HOURS * 3600 : END - 86400 ))

cpu_secs() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
peak_rss_mb() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
wait_ready() {
  local url="$1" i
  for i in $(seq 1 100); do
    if curl -sf -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  echo "bench/metrics: $url never became ready" >&2
  return 1
}
# Waits until process $1 uses under 5 % of a core over a second (at most 2 minutes).
wait_idle() {
  local pid="$1" i c0 c1
  for i in $(seq 1 120); do
    c0=$(cpu_secs "$pid"); sleep 1; c1=$(cpu_secs "$pid")
    if python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) < 0.05 else 1)' "$c0" "$c1"; then
      log "idle after $i s"
      return 0
    fi
  done
  log "still busy after 120 s; querying anyway"
}
stop() {
  local pid="$1" i
  kill -TERM "$pid"
  for i in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench/metrics: pid $pid did not stop within 60 s" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

declare -A RESULT
run_system() {
  local name="$1" dir="$WORK/$1" pid load query cpu0 cpu1 rss
  mkdir -p "$dir"
  case "$name" in
    watchtrail)
      WATCHTRAIL_ROOT_ACCESS_KEY_ID="$AKID" WATCHTRAIL_ROOT_SECRET_ACCESS_KEY="$SECRET" \
        "$SERVER" serve --data-dir "$dir/data" --listen 127.0.0.1:14590 --rollup off --log warn >"$dir/log" 2>&1 &
      pid=$!; PIDS+=("$pid")
      wait_ready http://127.0.0.1:14590/_watchtrail/health
      ;;
    victoriametrics)
      victoria-metrics -storageDataPath="$dir/data" -httpListenAddr=127.0.0.1:18428 -retentionPeriod=3 \
        -search.disableCache -loggerLevel=ERROR >"$dir/log" 2>&1 &
      pid=$!; PIDS+=("$pid")
      wait_ready http://127.0.0.1:18428/health
      ;;
    prometheus)
      # A day of backfill arrives faster than Prometheus's head moves: accept late samples.
      printf 'global:\n  scrape_interval: 1m\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n' >"$dir/prometheus.yml"
      prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --web.listen-address=127.0.0.1:19090 \
        --web.enable-remote-write-receiver --storage.tsdb.retention.time=30d --log.level=warn >"$dir/log" 2>&1 &
      pid=$!; PIDS+=("$pid")
      wait_ready http://127.0.0.1:19090/-/ready
      ;;
  esac
  log "$name: loading"
  cpu0=$(cpu_secs "$pid")
  case "$name" in
    watchtrail) load="$("$TSDB" load --file "$WORK/data.bin" --url 'http://127.0.0.1:14590/api/v1/write?namespace=Node' --concurrency "$CONCURRENCY" --sign "$AKID:$SECRET")" ;;
    victoriametrics) load="$("$TSDB" load --file "$WORK/data.bin" --url http://127.0.0.1:18428/api/v1/write --concurrency "$CONCURRENCY")" ;;
    prometheus) load="$("$TSDB" load --file "$WORK/data.bin" --url http://127.0.0.1:19090/api/v1/write --concurrency "$CONCURRENCY")" ;;
  esac
  cpu1=$(cpu_secs "$pid")
  rss=$(peak_rss_mb "$pid")
  log "$name: $load"
  # Each server finishes what the load left it (flushes, merges, compactions) before it is
  # queried: otherwise the first queries share the two cores with that work. VictoriaMetrics
  # also makes fresh data searchable within about a second.
  sleep 2
  wait_idle "$pid"
  log "$name: querying"
  case "$name" in
    watchtrail) query="$("$TSDB" query-watchtrail --url http://127.0.0.1:14590 --search '{Node,instance,job} MetricName="node_load1"' \
                  --start "$QSTART" --end "$END" --period 60 --runs "$RUNS" --sign "$AKID:$SECRET")" ;;
    victoriametrics) query="$("$TSDB" query-prom --url http://127.0.0.1:18428 --query 'avg_over_time(node_load1[60s])' \
                  --start $((QSTART + 60)) --end "$END" --step 60 --runs "$RUNS")" ;;
    prometheus) query="$("$TSDB" query-prom --url http://127.0.0.1:19090 --query 'avg_over_time(node_load1[60s])' \
                  --start $((QSTART + 60)) --end "$END" --step 60 --runs "$RUNS")" ;;
  esac
  log "$name: $query"
  stop "$pid"
  local bytes store_bytes
  bytes=$(du -sb "$dir/data" | cut -f1)
  case "$name" in
    watchtrail) store_bytes=$(du -sb "$dir/data/metrics" | cut -f1) ;;
    *) store_bytes="$bytes" ;;
  esac
  RESULT[$name]=$(python3 - "$load" "$query" "$cpu0" "$cpu1" "$rss" "$bytes" "$store_bytes" <<'EOF'
import json, sys
load, query = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cpu = float(sys.argv[4]) - float(sys.argv[3])
print(json.dumps({
    "samples": load["samples"], "failed_requests": load["failed_requests"], "first_error": load["first_error"],
    "wall_s": round(load["seconds"], 2), "samples_per_s": round(load["samples_per_second"]),
    "cpu_s": round(cpu, 2), "samples_per_cpu_s": round(load["samples"] / cpu) if cpu > 0 else None,
    "peak_rss_mb": int(sys.argv[5]), "disk_bytes": int(sys.argv[6]), "store_bytes": int(sys.argv[7]),
    "bytes_per_sample": round(int(sys.argv[6]) / load["samples"], 3), "store_bytes_per_sample": round(int(sys.argv[7]) / load["samples"], 3),
    "query_median_ms": round(query["median_ms"], 2), "query_runs_ms": [round(x, 2) for x in query["runs_ms"]],
    "query_series": query["series"], "query_points": query["points"],
}))
EOF
)
}

for s in watchtrail victoriametrics prometheus; do
  run_system "$s"
done

mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/metrics-$(date -u +%Y%m%dT%H%M%SZ).md"
python3 - "$OUT" "$GEN" "$CONCURRENCY" "$RUNS" "${RESULT[watchtrail]}" "${RESULT[victoriametrics]}" "${RESULT[prometheus]}" <<'EOF'
import json, sys, platform, os
out, gen, conc, runs = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
r = {n: json.loads(v) for n, v in zip(["Watchtrail", "VictoriaMetrics", "Prometheus"], sys.argv[5:8])}
vm, wt = r["VictoriaMetrics"], r["Watchtrail"]
lines = [
    f"# bench/metrics: {gen['series']} series, {gen['samples']:,} samples (15 s step), {os.cpu_count()} cores",
    "",
    f"Remote-write replay over {conc} connections; query: 100 series x 24 h at 60 s, average, median of {runs} runs.",
    "",
    "| | samples/s | samples per CPU-second | CPU s | peak RSS MB | bytes/sample (data dir) | bytes/sample (store) | query median ms | query series / points | failed requests |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for n, x in r.items():
    lines.append(f"| {n} | {x['samples_per_s']:,} | {x['samples_per_cpu_s']:,} | {x['cpu_s']} | {x['peak_rss_mb']} | {x['bytes_per_sample']} | {x['store_bytes_per_sample']} | {x['query_median_ms']} | {x['query_series']} / {x['query_points']} | {x['failed_requests']} |")
def ratio(a, b):
    return round(a / b, 2) if a and b else None
lines += [
    "",
    "Watchtrail / VictoriaMetrics (targets: ingest per core >= 2, bytes/sample <= 1, query latency <= 0.5):",
    "",
    f"- samples per CPU-second: {ratio(wt['samples_per_cpu_s'], vm['samples_per_cpu_s'])}",
    f"- bytes per sample (data dir): {ratio(wt['bytes_per_sample'], vm['bytes_per_sample'])}; (store only): {ratio(wt['store_bytes_per_sample'], vm['store_bytes_per_sample'])}",
    f"- query latency: {ratio(wt['query_median_ms'], vm['query_median_ms'])}",
    "",
    "Raw results:",
    "",
    "```json",
    json.dumps({"dataset": gen, "results": r}, indent=1),
    "```",
]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
EOF
log "written to $OUT"
