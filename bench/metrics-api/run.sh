#!/usr/bin/env bash
# bench/metrics-api: PutMetricData throughput and GetMetricStatistics latency, Watchtrail
# against moto_server, on the same data, in the same run, on this machine.
#
# Usage: bench/metrics-api/run.sh            (a full run takes about 4 minutes after builds)
# Knobs (environment): RUNS=5 DURATION=10 CONCURRENCIES="32 64 128" REPORT_CONCURRENCY=32
#   GET_REQUESTS=400 GET_CONCURRENCY=4 SEED_CALLS=256 DATUMS=20 PROTOCOL=auto|json|query
#   CLIENT_THREADS=1 SKIP_BUILD=0
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/metrics-api"
RUNS="${RUNS:-5}"
DURATION="${DURATION:-10}"
CONCURRENCIES="${CONCURRENCIES:-32 64 128}"
REPORT_CONCURRENCY="${REPORT_CONCURRENCY:-32}"
GET_REQUESTS="${GET_REQUESTS:-400}"
GET_CONCURRENCY="${GET_CONCURRENCY:-4}"
GET_MAX_SECS="${GET_MAX_SECS:-30}"
SEED_CALLS="${SEED_CALLS:-256}"
DATUMS="${DATUMS:-20}"
PROTOCOL="${PROTOCOL:-auto}"
CLIENT_THREADS="${CLIENT_THREADS:-1}"
SKIP_BUILD="${SKIP_BUILD:-0}"
VENV="$ROOT/.venv/bench"
BENCH="$ROOT/target/release/metrics-api-bench"
SERVER="$ROOT/target/release/watchtrail"

log() { printf '[metrics-api] %s\n' "$*" >&2; }

# --- cleanup: every process we start is recorded here and stopped on exit -------------------
PIDS=()
WORK=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$WORK" && -d "$WORK" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- moto in a venv (reused when present) ---------------------------------------------------
if [[ ! -x "$VENV/bin/moto_server" ]]; then
  log "creating venv $VENV with moto[server]"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'moto[server]'
fi
MOTO_VERSION="$("$VENV/bin/python" -c 'import moto; print(moto.__version__)')"
log "moto $MOTO_VERSION"

# --- release binaries -------------------------------------------------------------------------
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "building release binaries (watchtrail, metrics-api-bench)"
  (cd "$ROOT" && cargo build --release -p watchtrail -p watchtrail-bench)
fi
[[ -x "$BENCH" && -x "$SERVER" ]] || { log "missing $BENCH or $SERVER"; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/metrics-api-bench.XXXXXX")"
mkdir -p "$WORK/runs" "$WORK/wt-data"

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Machine-wide busy CPU seconds (all cores; everything but idle and iowait), from /proc/stat.
machine_busy_secs() {
  awk -v t="$CLK_TCK" '/^cpu /{ printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t; exit }' /proc/stat
}

# This machine is shared (other work may run builds, tests or fuzzers on the same 2 cores).
# Before a measurement, wait (bounded) until the machine is nearly idle, and record how busy
# it was meanwhile: a run where other processes used CPU is marked "noisy" in the results.
QUIET_BELOW="${QUIET_BELOW:-0.15}"       # busy cores, our idle servers included
QUIET_WAIT_SECS="${QUIET_WAIT_SECS:-30}" # per measurement
wait_quiet() {
  local end=$((SECONDS + QUIET_WAIT_SECS)) b0 b1 busy
  while :; do
    b0="$(machine_busy_secs)"; sleep 1; b1="$(machine_busy_secs)"
    busy="$(awk -v a="$b0" -v b="$b1" 'BEGIN{printf "%.2f", b-a}')"
    if awk -v x="$busy" -v q="$QUIET_BELOW" 'BEGIN{exit !(x < q)}'; then return 0; fi
    if ((SECONDS >= end)); then log "machine still busy ($busy cores used by others) after ${QUIET_WAIT_SECS}s; measuring anyway (run will be marked noisy if it stays busy)"; return 0; fi
  done
}

# CPU seconds (user+system, all threads) of a process.
CLK_TCK="$(getconf CLK_TCK)"
cpu_secs() {
  awk -v t="$CLK_TCK" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.2f\n", (f[12] + f[13]) / t }' "/proc/$1/stat"
}

# --- start Watchtrail -------------------------------------------------------------------------
export WATCHTRAIL_ROOT_ACCESS_KEY_ID="AKIABENCHMARK0000001"
export WATCHTRAIL_ROOT_SECRET_ACCESS_KEY="benchmarkSecretKey0000000000000000000000"
export WATCHTRAIL_ACCOUNT_ID="123456789012"
export BENCH_ACCESS_KEY_ID="$WATCHTRAIL_ROOT_ACCESS_KEY_ID"
export BENCH_SECRET_ACCESS_KEY="$WATCHTRAIL_ROOT_SECRET_ACCESS_KEY"
"$SERVER" serve --data-dir "$WORK/wt-data" --listen 127.0.0.1:0 --log warn >"$WORK/wt.out" 2>"$WORK/wt.err" &
WT_PID=$!
PIDS+=("$WT_PID")
WT_URL=""
for _ in $(seq 1 100); do
  WT_URL="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/wt.out" 2>/dev/null | sed 's/listening on //' || true)"
  [[ -n "$WT_URL" ]] && break
  kill -0 "$WT_PID" 2>/dev/null || { log "watchtrail exited:"; cat "$WORK/wt.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$WT_URL" ]] || { log "watchtrail did not print its address"; exit 1; }

# --- start moto -------------------------------------------------------------------------------
MOTO_PORT="$(free_port)"
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.out" 2>"$WORK/moto.err" &
MOTO_PID=$!
PIDS+=("$MOTO_PID")

wait_ready() { # name url pid
  local code
  for _ in $(seq 1 150); do
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$2" || true)"
    if [[ "$code" != "000" && -n "$code" ]]; then log "$1 ready at $2 (HTTP $code)"; return 0; fi
    kill -0 "$3" 2>/dev/null || { log "$1 exited"; return 1; }
    sleep 0.1
  done
  log "$1 not ready after 15 s"; return 1
}
wait_ready watchtrail "$WT_URL/_watchtrail/health" "$WT_PID"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$WT_URL/_watchtrail/health")" == 200 ]] || { log "watchtrail health not 200"; exit 1; }
wait_ready moto "$MOTO_URL/moto-api/" "$MOTO_PID"

# --- protocol: JSON on both if both accept it, else awsQuery on both --------------------------
BASE_TIME="$(date +%s)"
COMMON=(--base-time "$BASE_TIME" --threads "$CLIENT_THREADS")
probe_ok() { # url protocol
  "$BENCH" probe --endpoint "$1" --protocol "$2" "${COMMON[@]}" >"$WORK/probe-$2-$(echo "$1" | tr -c 'a-z0-9' _).json" 2>&1 &&
    jq -e '.ok' "$WORK/probe-$2-$(echo "$1" | tr -c 'a-z0-9' _).json" >/dev/null
}
if [[ "$PROTOCOL" == auto ]]; then
  if probe_ok "$MOTO_URL" json && probe_ok "$WT_URL" json; then PROTOCOL=json
  elif probe_ok "$MOTO_URL" query && probe_ok "$WT_URL" query; then PROTOCOL=query
  else log "neither protocol works on both peers; probes:"; cat "$WORK"/probe-*.json >&2; exit 1
  fi
fi
log "protocol: $PROTOCOL; base time $BASE_TIME"
COMMON+=(--protocol "$PROTOCOL")

declare -A URL=([watchtrail]="$WT_URL" [moto]="$MOTO_URL")
declare -A PID=([watchtrail]="$WT_PID" [moto]="$MOTO_PID")
PEERS=(moto watchtrail)

# Runs the bench with the given args against a peer, adds server CPU to the JSON, saves it.
measure() { # peer outfile bench-args...
  local peer="$1" out="$2"; shift 2
  local c0 c1 m0 m1
  wait_quiet
  m0="$(machine_busy_secs)"
  c0="$(cpu_secs "${PID[$peer]}")"
  "$BENCH" "$@" --endpoint "${URL[$peer]}" "${COMMON[@]}" --label "$peer" >"$out.tmp"
  c1="$(cpu_secs "${PID[$peer]}")"
  m1="$(machine_busy_secs)"
  jq --arg peer "$peer" --argjson c0 "$c0" --argjson c1 "$c1" --argjson m0 "$m0" --argjson m1 "$m1" \
    '. + {peer: $peer, server_cpu_secs: (($c1 - $c0) * 100 | round / 100),
          server_cpu_util: ((($c1 - $c0) / .elapsed_secs) * 100 | round / 100),
          server_cpu_us_per_ok_call: (if .ok > 0 then (($c1 - $c0) / .ok * 1e6 | round) else null end),
          machine_busy_cores: ((($m1 - $m0) / .elapsed_secs) * 100 | round / 100)}
     | . + {other_cpu_cores: (((.machine_busy_cores - .server_cpu_util - ((.client_cpu_secs // 0) / .elapsed_secs)) * 100 | round / 100))}
     | . + {noisy: (if .elapsed_secs >= 1 then .other_cpu_cores > 0.25 else null end)}' "$out.tmp" >"$out"
  rm -f "$out.tmp"
  if [[ "$(jq -r '.noisy' "$out")" == true ]]; then
    log "note: other processes used $(jq -r '.other_cpu_cores' "$out") cores during this run (noisy)"
  fi
  if [[ "$(jq -r '.flagged' "$out")" == true ]]; then
    log "WARNING: $peer $(jq -r '.mode' "$out") run had $(jq -r '.errors' "$out") errors: $(jq -c '.error_samples[0]' "$out")"
  fi
}

# --- seed identical data, which also warms up both servers -------------------------------------
for peer in "${PEERS[@]}"; do
  log "seed $peer: $SEED_CALLS PutMetricData x $DATUMS datums"
  measure "$peer" "$WORK/runs/seed-$peer.json" seed --calls "$SEED_CALLS" --concurrency 8 --datums "$DATUMS" --max-secs 60
done

# --- GetMetricStatistics on the seeded data (before the put runs, so both hold the same data) --
for peer in "${PEERS[@]}"; do
  measure "$peer" "$WORK/runs/get-warmup-$peer.json" get-stats --requests 32 --concurrency "$GET_CONCURRENCY" --max-secs 20
  for r in $(seq 1 "$RUNS"); do
    log "get-stats $peer run $r/$RUNS: $GET_REQUESTS requests, concurrency $GET_CONCURRENCY"
    measure "$peer" "$WORK/runs/get-$peer-c$GET_CONCURRENCY-r$r.json" get-stats \
      --requests "$GET_REQUESTS" --concurrency "$GET_CONCURRENCY" --max-secs "$GET_MAX_SECS"
  done
done

# --- PutMetricData throughput ---------------------------------------------------------------------
# Runs alternate between the peers (moto, Watchtrail, moto, ...) so that both see the same drift
# of this shared machine (disk latency, neighbours); `measure` waits for a quiet machine first,
# so Watchtrail's background flushes never overlap a moto run.
for c in $CONCURRENCIES; do
  for r in $(seq 1 "$RUNS"); do
    for peer in "${PEERS[@]}"; do
      log "put $peer concurrency $c run $r/$RUNS: ${DURATION}s"
      measure "$peer" "$WORK/runs/put-$peer-c$c-r$r.json" put \
        --concurrency "$c" --duration-secs "$DURATION" --datums "$DATUMS"
      sleep 1
    done
  done
done

# --- summary ------------------------------------------------------------------------------------
mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/metrics-api-$(date -u +%Y-%m-%d).json"
[[ -e "$OUT" ]] && OUT="$ROOT/bench/results/metrics-api-$(date -u +%Y-%m-%dT%H%M%SZ).json"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
GIT_DIRTY="$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -c . || true)"
GIT_MODIFIED="$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | awk '{print $2}' | tr '\n' ' ')"
"$VENV/bin/python" "$HERE/summarize.py" \
  --runs-dir "$WORK/runs" --out "$OUT" --report-concurrency "$REPORT_CONCURRENCY" \
  --meta "moto_version=$MOTO_VERSION" "protocol=$PROTOCOL" "base_time=$BASE_TIME" \
  "git_rev=$GIT_REV" "git_dirty_files=$GIT_DIRTY" "git_modified_tracked=$GIT_MODIFIED" \
  "watchtrail_binary_mtime=$(date -u -r "$SERVER" +%Y-%m-%dT%H:%M:%SZ)" "nproc=$(nproc)" "kernel=$(uname -r)" \
  "cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" \
  "data_dir_fs=$(df -T "$WORK" | awk 'NR==2{print $2}')" "duration_secs=$DURATION" "runs=$RUNS" \
  "datums=$DATUMS" "get_requests=$GET_REQUESTS" "get_concurrency=$GET_CONCURRENCY" \
  "seed_calls=$SEED_CALLS" "client_threads=$CLIENT_THREADS" "concurrencies=$CONCURRENCIES"
log "results: $OUT"
