#!/usr/bin/env bash
# Where does Watchtrail's PutMetricData time go? Starts a fresh Watchtrail on loopback, drives
# PutMetricData with metrics-api-bench, and meanwhile records (one tool per load window):
#   1. per-thread CPU (from /proc/PID/task/*/stat),
#   2. fsync/fdatasync/write syscall counts (perf stat on syscall tracepoints),
#   3. an on-CPU profile (perf record -g), summarised by perf report.
# Needs the release binaries (run.sh builds them) and perf. Output goes to $OUT_DIR
# (default: bench/results/metrics-api-profile-<time>/). Observation only: nothing is changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/target/release/metrics-api-bench"
SERVER="$ROOT/target/release/watchtrail"
CONCURRENCY="${CONCURRENCY:-32}"
WINDOW="${WINDOW:-8}"
OUT_DIR="${OUT_DIR:-$ROOT/bench/results/metrics-api-profile-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT_DIR"
command -v perf >/dev/null || { echo "perf not found" >&2; exit 1; }

PIDS=()
WORK="$(mktemp -d "${TMPDIR:-/tmp}/metrics-api-profile.XXXXXX")"
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export WATCHTRAIL_ROOT_ACCESS_KEY_ID="AKIABENCHMARK0000001"
export WATCHTRAIL_ROOT_SECRET_ACCESS_KEY="benchmarkSecretKey0000000000000000000000"
export WATCHTRAIL_ACCOUNT_ID="123456789012"
export BENCH_ACCESS_KEY_ID="$WATCHTRAIL_ROOT_ACCESS_KEY_ID" BENCH_SECRET_ACCESS_KEY="$WATCHTRAIL_ROOT_SECRET_ACCESS_KEY"
"$SERVER" serve --data-dir "$WORK/data" --listen 127.0.0.1:0 --log warn >"$WORK/wt.out" 2>"$WORK/wt.err" &
WT=$!; PIDS+=("$WT")
URL=""
for _ in $(seq 1 100); do
  URL="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/wt.out" 2>/dev/null | sed 's/listening on //' || true)"
  [[ -n "$URL" ]] && break; sleep 0.1
done
[[ -n "$URL" ]] || { echo "watchtrail did not start" >&2; cat "$WORK/wt.err" >&2; exit 1; }
"$BENCH" seed --endpoint "$URL" --calls 256 >/dev/null

load() { # name
  "$BENCH" put --endpoint "$URL" --concurrency "$CONCURRENCY" --duration-secs "$((WINDOW + 2))" --label "$1" >"$OUT_DIR/put-$1.json" &
  LOAD=$!; PIDS+=("$LOAD"); sleep 1
}
finish() { wait "$LOAD" || true; jq -c '{label: .label, calls_per_sec, errors, p50: .latency_ms.p50, p99: .latency_ms.p99}' "$OUT_DIR/put-$1.json"; }

echo "== per-thread CPU over ${WINDOW}s at concurrency $CONCURRENCY (from /proc/PID/task/*/stat; 1.00 = one core)"
thread_ticks() { for t in /proc/"$WT"/task/*; do awk '{ c=$0; sub(/.*\) /, "", c); split(c, f, " "); n=$0; sub(/^[0-9]+ \(/, "", n); sub(/\) .*/, "", n); print FILENAME, n, f[12] + f[13] }' "$t/stat"; done | sed 's|/proc/[0-9]*/task/||; s|/stat||'; }
load threads
thread_ticks >"$WORK/t0"; sleep "$WINDOW"; thread_ticks >"$WORK/t1"
join <(sort "$WORK/t0") <(sort "$WORK/t1") | awk -v w="$WINDOW" -v hz="$(getconf CLK_TCK)" '{ printf "%-8s %-18s %5.2f\n", $1, $2, ($5 - $3) / hz / w }' |
  sort -k3 -rn | tee "$OUT_DIR/threads.txt"
finish threads

echo "== syscalls over ${WINDOW}s"
load syscalls
perf stat -e 'syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_pwrite64,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait' \
  -p "$WT" -- sleep "$WINDOW" 2>&1 | tee "$OUT_DIR/perf-stat.txt"
finish syscalls

echo "== on-CPU profile over ${WINDOW}s"
load record
perf record -F 499 -g -p "$WT" -o "$OUT_DIR/perf.data" -- sleep "$WINDOW" 2>/dev/null
finish record
perf report -i "$OUT_DIR/perf.data" --no-children --sort dso,symbol -g none --stdio 2>/dev/null | { grep -E '^ +[0-9]' || true; } | head -40 | cut -c1-160 | tee "$OUT_DIR/perf-top-symbols.txt"
echo "-- samples by thread"
perf report -i "$OUT_DIR/perf.data" --no-children --sort pid -g none --stdio 2>/dev/null | { grep -E '^ +[0-9]' || true; } | head -20 | tee "$OUT_DIR/perf-by-thread.txt"
echo "-- samples by thread and symbol (top 40)"
perf report -i "$OUT_DIR/perf.data" --no-children --sort pid,symbol -g none --stdio 2>/dev/null | { grep -E '^ +[0-9]' || true; } | head -40 | cut -c1-160 | tee "$OUT_DIR/perf-by-thread-symbol.txt"
echo "profile written to $OUT_DIR"
