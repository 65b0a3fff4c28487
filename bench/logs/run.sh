#!/usr/bin/env bash
# bench/logs: CloudWatch Logs ingest, FilterLogEvents scans, a Logs Insights aggregation and
# compression, against the hardware limits measured in the same run on the same data
# (`zstd -d` of the data to /dev/null, `rg -c` over the raw file) and against moto_server for
# the PutLogEvents API path.
#
# Usage: bench/logs/run.sh
# Knobs (environment): EVENTS=5000000 (nginx lines) JSON_EVENTS=2000000 RUNS=3
#   MOTO_EVENTS=100000 CONCURRENCY=4 SKIP_BUILD=0 KEEP_WORK=0
# Server CPU is read from /proc/<pid>/stat (user + system) around each phase; rates are raw
# message bytes per CPU-second of the server ("per core"). Medians of RUNS runs.
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EVENTS="${EVENTS:-5000000}"
JSON_EVENTS="${JSON_EVENTS:-2000000}"
RUNS="${RUNS:-3}"
MOTO_EVENTS="${MOTO_EVENTS:-100000}"
CONCURRENCY="${CONCURRENCY:-4}"
SKIP_BUILD="${SKIP_BUILD:-0}"
SERVER="$ROOT/target/release/watchtrail"
BENCH="$ROOT/target/release/logs-bench"
VENV="$ROOT/.venv/bench"
export AWS_ACCESS_KEY_ID=AKIALOGSBENCH0000001
export AWS_SECRET_ACCESS_KEY=logsbenchsecretlogsbenchsecret0000000000
export WATCHTRAIL_ROOT_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" WATCHTRAIL_ROOT_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"

log() { printf '[logs] %s\n' "$*" >&2; }

PIDS=()
WORK=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$WORK" ] && [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in zstd rg; do
  if ! command -v "$tool" >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "bench/logs: $tool is missing; install zstd and ripgrep with apt-get" >&2; exit 1; }
    log "installing zstd and ripgrep from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zstd ripgrep >&2
  fi
done
if [[ ! -x "$VENV/bin/moto_server" ]]; then
  log "creating venv $VENV with moto[server]"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'moto[server]'
fi
if [ "$SKIP_BUILD" != 1 ]; then
  log "building (release)"
  (cd "$ROOT" && cargo build --release --locked -p watchtrail -p watchtrail-bench >&2)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/watchtrail-bench-logs.XXXXXX")"
NOW_MS=$(( $(date +%s) * 1000 ))

# cpu_secs PID: user + system CPU seconds of a running process.
cpu_secs() { python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"; }
# child_cpu CMD...: runs CMD (stdout to /dev/null), prints its user + system CPU seconds.
child_cpu() { python3 -c 'import resource,subprocess,sys; b=resource.getrusage(resource.RUSAGE_CHILDREN); subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,check=True); a=resource.getrusage(resource.RUSAGE_CHILDREN); print(a.ru_utime-b.ru_utime+a.ru_stime-b.ru_stime)' "$@"; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
jget() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]); [v:=v[k] for k in sys.argv[2:]]; print(v)' "$@"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.3f}")' "$1" "$2"; }

# start_server DIR: starts watchtrail on DIR, sets SPID, EP and SLOG.
start_server() {
  SLOG="$WORK/server-$RANDOM.log"
  "$SERVER" serve --data-dir "$1" --listen 127.0.0.1:0 --log warn >"$SLOG" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  for _ in $(seq 1 200); do
    EP="$(sed -n 's/^watchtrail listening on //p' "$SLOG" | head -1)"
    [ -n "$EP" ] && return 0
    sleep 0.05
  done
  echo "server did not start:" >&2; cat "$SLOG" >&2; exit 1
}
# stop_server: a clean stop (final flush and compaction); sets STOP_CPU, the server's CPU
# seconds over its whole life, as it printed them.
stop_server() {
  kill -TERM "$SPID"; wait "$SPID" 2>/dev/null || true
  STOP_CPU="$(sed -n 's/^watchtrail stopped (cpu \([0-9.]*\) s)$/\1/p' "$SLOG" | tail -1)"
  [ -n "$STOP_CPU" ] || { echo "server did not stop cleanly:" >&2; tail -20 "$SLOG" >&2; exit 1; }
}

log "generating $EVENTS nginx lines and $JSON_EVENTS JSON lines"
"$BENCH" gen --kind nginx --events "$EVENTS" >"$WORK/nginx.log"
"$BENCH" gen --kind json --events "$JSON_EVENTS" --seed 2 >"$WORK/json.log"
NGINX_BYTES=$(python3 -c 'import sys; n=0
for l in open(sys.argv[1],"rb"): n+=len(l)-1
print(n)' "$WORK/nginx.log")
JSON_BYTES=$(python3 -c 'import sys; n=0
for l in open(sys.argv[1],"rb"): n+=len(l)-1
print(n)' "$WORK/json.log")
log "raw message bytes: nginx $NGINX_BYTES, json $JSON_BYTES"

# --- hardware limits ---------------------------------------------------------------------------
zstd -q -3 -T1 "$WORK/nginx.log" -o "$WORK/nginx.zst"
zstd -q -3 -T1 "$WORK/json.log" -o "$WORK/json.zst"
ZSTD_RATIO=$(ratio "$(stat -c %s "$WORK/nginx.log")" "$(stat -c %s "$WORK/nginx.zst")")
ZD=(); ZDJ=(); RG=()
for _ in $(seq 1 "$RUNS"); do
  ZD+=("$(python3 -c 'print(int(__import__("sys").argv[1])/1e9/float(__import__("sys").argv[2]))' "$NGINX_BYTES" "$(child_cpu zstd -q -d -c "$WORK/nginx.zst")")")
  ZDJ+=("$(python3 -c 'print(int(__import__("sys").argv[1])/1e9/float(__import__("sys").argv[2]))' "$JSON_BYTES" "$(child_cpu zstd -q -d -c "$WORK/json.zst")")")
  RG+=("$(python3 -c 'print(int(__import__("sys").argv[1])/1e9/float(__import__("sys").argv[2]))' "$NGINX_BYTES" "$(child_cpu rg -j1 -c XQZRARE "$WORK/nginx.log")")")
done
ZSTD_GBS=$(median "${ZD[@]}"); ZSTD_JSON_GBS=$(median "${ZDJ[@]}"); RG_GBS=$(median "${RG[@]}")
log "limits: zstd -d ${ZSTD_GBS} GB/s (nginx), ${ZSTD_JSON_GBS} GB/s (json); rg -c ${RG_GBS} GB/s; zstd -3 ratio ${ZSTD_RATIO}"

# --- ingest: RUNS fresh servers ------------------------------------------------------------------
# Two figures per run: the server's CPU while the requests were served (the request path:
# parse, check, commit-log write and fsync, background flushes that happened meanwhile), and
# its CPU through the clean stop that flushes and compacts everything (the whole cost of
# storing the data at its final compression).
INGEST=(); INGEST_ALL=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/data"; start_server "$WORK/data"
  before=$(cpu_secs "$SPID")
  out=$("$BENCH" ingest --endpoint "$EP" --group nginx --file "$WORK/nginx.log" --base-ms "$NOW_MS" --concurrency "$CONCURRENCY")
  after=$(cpu_secs "$SPID")
  stop_server
  cpu=$(python3 -c 'import sys; print(float(sys.argv[2])-float(sys.argv[1]))' "$before" "$after")
  all=$(python3 -c 'import sys; print(float(sys.argv[2])-float(sys.argv[1]))' "$before" "$STOP_CPU")
  rate=$(python3 -c 'import sys; print(int(sys.argv[1])/1e6/float(sys.argv[2]))' "$(jget "$out" raw_bytes)" "$cpu")
  rate_all=$(python3 -c 'import sys; print(int(sys.argv[1])/1e6/float(sys.argv[2]))' "$(jget "$out" raw_bytes)" "$all")
  INGEST+=("$rate"); INGEST_ALL+=("$rate_all")
  log "ingest run $r: $(jget "$out" events) events, $(jget "$out" seconds) s wall; server CPU ${cpu} s serving (${rate} raw MB/s per core), ${all} s through flush and compaction (${rate_all})"
done
INGEST_MBS=$(median "${INGEST[@]}"); INGEST_ALL_MBS=$(median "${INGEST_ALL[@]}")
NGINX_SEG=$(du -sb "$WORK/data/logs/segments" | cut -f1)
start_server "$WORK/data"
"$BENCH" ingest --endpoint "$EP" --group json --file "$WORK/json.log" --base-ms "$NOW_MS" --concurrency "$CONCURRENCY" >/dev/null
stop_server
start_server "$WORK/data"
SEG_BYTES=$(du -sb "$WORK/data/logs/segments" | cut -f1)
COMPRESSION=$(ratio "$NGINX_BYTES" "$NGINX_SEG")
COMPRESSION_JSON=$(ratio "$JSON_BYTES" "$(( SEG_BYTES - NGINX_SEG ))")
log "segments: nginx $NGINX_SEG bytes (${COMPRESSION}x), JSON $(( SEG_BYTES - NGINX_SEG )) bytes (${COMPRESSION_JSON}x)"

# --- scans ---------------------------------------------------------------------------------------
# scan NAME GROUP RAW PATTERN: median raw GB/s per server CPU-second over RUNS FilterLogEvents walks.
scan() {
  local name="$1" group="$2" raw="$3" pattern="$4" rates=() out before after cpu
  for _ in $(seq 1 "$RUNS"); do
    before=$(cpu_secs "$SPID")
    out=$("$BENCH" filter --endpoint "$EP" --group "$group" --pattern "$pattern")
    after=$(cpu_secs "$SPID")
    cpu=$(python3 -c 'import sys; print(max(float(sys.argv[2])-float(sys.argv[1]), 0.01))' "$before" "$after")
    rates+=("$(python3 -c 'import sys; print(int(sys.argv[1])/1e9/float(sys.argv[2]))' "$raw" "$cpu")")
    log "scan $name: $(jget "$out" matches) matches in $(jget "$out" pages) page(s), $(jget "$out" seconds) s wall, server CPU ${cpu} s"
  done
  median "${rates[@]}"
}
SCAN_TERM=$(scan "rare term" nginx "$NGINX_BYTES" "XQZRARE")
SCAN_JSON=$(scan "JSON pattern" json "$JSON_BYTES" '{ $.status = 503 && $.latencyMs > 1990 }')
SCAN_SPACE=$(scan "space-delimited" nginx "$NGINX_BYTES" '[ip, ident, user, timestamp, request, status = 503, bytes > 50150, referer, agent, rt]')

# --- Insights ------------------------------------------------------------------------------------
QS=(); QW=()
for _ in $(seq 1 "$RUNS"); do
  before=$(cpu_secs "$SPID")
  out=$("$BENCH" insights --endpoint "$EP" --group nginx --query 'stats count(*) by bin(5m)' --start-s $(( NOW_MS / 1000 - 7200 )) --end-s $(( NOW_MS / 1000 )))
  after=$(cpu_secs "$SPID")
  QS+=("$(python3 -c 'import sys; print(float(sys.argv[2])-float(sys.argv[1]))' "$before" "$after")")
  QW+=("$(jget "$out" seconds)")
  log "insights: $(jget "$out" rows) rows, $(jget "$out" statistics recordsScanned) records scanned, $(jget "$out" seconds) s wall"
done
INSIGHTS_CPU=$(median "${QS[@]}"); INSIGHTS_WALL=$(median "${QW[@]}")
stop_server

# --- moto: the PutLogEvents API path on the same lines -------------------------------------------
head -n "$MOTO_EVENTS" "$WORK/nginx.log" >"$WORK/moto.log"
MOTO_RAW=$(python3 -c 'import sys; n=0
for l in open(sys.argv[1],"rb"): n+=len(l)-1
print(n)' "$WORK/moto.log")
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MPORT" >"$WORK/moto.out" 2>&1 &
MPID=$!; PIDS+=("$MPID")
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$MPORT/" && break; sleep 0.05; done
MOTO=(); OURS=()
for r in $(seq 1 "$RUNS"); do
  before=$(cpu_secs "$MPID")
  "$BENCH" ingest --endpoint "http://127.0.0.1:$MPORT" --group "moto-$r" --file "$WORK/moto.log" --base-ms "$NOW_MS" --concurrency "$CONCURRENCY" >/dev/null
  after=$(cpu_secs "$MPID")
  MOTO+=("$(python3 -c 'import sys; print(int(sys.argv[1])/1e6/(float(sys.argv[3])-float(sys.argv[2])))' "$MOTO_RAW" "$before" "$after")")
  rm -rf "$WORK/data2"; start_server "$WORK/data2"
  before=$(cpu_secs "$SPID")
  "$BENCH" ingest --endpoint "$EP" --group "small-$r" --file "$WORK/moto.log" --base-ms "$NOW_MS" --concurrency "$CONCURRENCY" >/dev/null
  after=$(cpu_secs "$SPID")
  OURS+=("$(python3 -c 'import sys; print(int(sys.argv[1])/1e6/(float(sys.argv[3])-float(sys.argv[2])))' "$MOTO_RAW" "$before" "$after")")
  stop_server
done
MOTO_MBS=$(median "${MOTO[@]}"); OURS_SMALL_MBS=$(median "${OURS[@]}")

# --- report --------------------------------------------------------------------------------------
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/logs-$STAMP.md"
python3 - "$REPORT" <<PY
import sys
f = lambda x: float(x)
rows = [
  ("ingest, PutLogEvents 10,000-event batches (raw MB/s per core, serving)", f("$INGEST_MBS"), ">= 100", f("$INGEST_MBS") >= 100),
  ("ingest, the same through flush and compaction (raw MB/s per core)", f("$INGEST_ALL_MBS"), ">= 100", f("$INGEST_ALL_MBS") >= 100),
  ("scan, rare term (raw GB/s per core)", f("$SCAN_TERM"), f">= 0.8 x zstd -d = {0.8*f('$ZSTD_GBS'):.2f}", f("$SCAN_TERM") >= 0.8*f("$ZSTD_GBS")),
  ("scan, JSON pattern (raw GB/s per core)", f("$SCAN_JSON"), f">= 0.8 x zstd -d = {0.8*f('$ZSTD_JSON_GBS'):.2f}", f("$SCAN_JSON") >= 0.8*f("$ZSTD_JSON_GBS")),
  ("scan, space-delimited (raw GB/s per core)", f("$SCAN_SPACE"), f">= 0.8 x zstd -d = {0.8*f('$ZSTD_GBS'):.2f}", f("$SCAN_SPACE") >= 0.8*f("$ZSTD_GBS")),
  ("compression, nginx lines (raw bytes / segment bytes)", f("$COMPRESSION"), ">= 8", f("$COMPRESSION") >= 8),
  ("compression, JSON lines (no target)", f("$COMPRESSION_JSON"), "-", True),
]
out = [f"# bench/logs — $STAMP", "",
  f"Data: $EVENTS nginx lines ($NGINX_BYTES raw bytes) and $JSON_EVENTS JSON lines ($JSON_BYTES raw bytes); medians of $RUNS runs.", "",
  "| measure | Watchtrail | target | met |", "|---|---|---|---|"]
out += [f"| {n} | {v:.3f} | {t} | {'-' if t == '-' else ('yes' if ok else 'no')} |" for n, v, t, ok in rows]
out += ["", "Hardware limits measured in the same run:", "",
  f"- zstd -d (single thread) of the nginx data: {f('$ZSTD_GBS'):.3f} GB/s; of the JSON data: {f('$ZSTD_JSON_GBS'):.3f} GB/s (zstd -3 ratio {f('$ZSTD_RATIO'):.2f}x)",
  f"- rg -j1 -c over the raw nginx file: {f('$RG_GBS'):.3f} GB/s",
  f"- Insights \`stats count(*) by bin(5m)\` over $EVENTS events: {f('$INSIGHTS_WALL'):.2f} s wall, {f('$INSIGHTS_CPU'):.2f} s server CPU",
  f"- API path on the first $MOTO_EVENTS nginx lines: Watchtrail {f('$OURS_SMALL_MBS'):.2f} raw MB/s per core, moto_server {f('$MOTO_MBS'):.3f} ({f('$OURS_SMALL_MBS')/f('$MOTO_MBS'):.0f}x)",
]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "report: $REPORT"
