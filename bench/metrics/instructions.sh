#!/usr/bin/env bash
# bench/metrics/instructions.sh: the instructions the server executes for a remote-write load,
# counted by cachegrind. On a machine whose CPU time swings by a fifth from run to run (a VM
# with steal time and no hardware counters), an instruction count repeats to within about 1 %,
# so it shows a change of a few percent that `run.sh` cannot, between runs that flushed and
# compacted alike. The server flushes on a one-second clock, so a run makes seven to nine
# level-0 segments, and when it reaches eight before the stop, a compaction merges them
# (about 1 G more instructions: `metric_segments` is then 2, not 7 to 9). Compare runs with
# the same kind of count, on an otherwise idle machine (a busy one flushes more often).
#
# 1. Generates HOSTS x 100 series x HOURS h at 15 s (default 100 x 2 h: 4.8 M samples, 2,400
#    requests) with the bench's `tsdb-bench generate`.
# 2. Starts `watchtrail serve` under `valgrind --tool=cachegrind --cache-sim=no` on 127.0.0.1,
#    replays the file over CONCURRENCY signed connections, stops the server gracefully.
# 3. Prints the instructions of the whole process (start, load, final flush, stop), per
#    sample, and the metric segments left. Under valgrind the CPU has no SHA extensions, so SigV4's payload hash runs in
#    software: about 1.6 G of the total (SHA-NI makes it about 1 % of the CPU in real runs);
#    it is the same in every build. Kernel work (fsync, page faults) is not counted.
#
# Usage: bench/metrics/instructions.sh [server binary]   Knobs: HOSTS=100 HOURS=2 CONCURRENCY=4
# Needs valgrind (Debian package `valgrind`). Builds the release binaries unless a binary is given.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOSTS="${HOSTS:-100}"
HOURS="${HOURS:-2}"
CONCURRENCY="${CONCURRENCY:-4}"
TSDB="$ROOT/target/release/tsdb-bench"
SERVER="${1:-$ROOT/target/release/watchtrail}"
AKID="AKIABENCHMETRICS0001"
SECRET="bench-metrics-secret-key-not-for-use-0001"
PORT=14591

command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
if [ $# -eq 0 ]; then
  (cd "$ROOT" && cargo build --release --locked -p watchtrail -p watchtrail-bench >&2)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/watchtrail-instructions.XXXXXX")"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

END=$(( $(date +%s) / 60 * 60 ))
"$TSDB" generate --out "$WORK/data.bin" --hosts "$HOSTS" --hours "$HOURS" --end "$END" >/dev/null
WATCHTRAIL_ROOT_ACCESS_KEY_ID="$AKID" WATCHTRAIL_ROOT_SECRET_ACCESS_KEY="$SECRET" \
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$WORK/cg.out" \
  "$SERVER" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --rollup off --log warn >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/_watchtrail/health" && break
  sleep 0.2
done
LOAD="$("$TSDB" load --file "$WORK/data.bin" --url "http://127.0.0.1:$PORT/api/v1/write?namespace=Node" --concurrency "$CONCURRENCY" --sign "$AKID:$SECRET")"
kill -TERM "$PID"
wait "$PID" || true
PID=""
SEGMENTS=$(find "$WORK/data/metrics" -name '*.seg' -path '*series*' | wc -l)
python3 - "$LOAD" "$(awk '/^summary:/ { print $2 }' "$WORK/cg.out")" "$SEGMENTS" <<'EOF'
import json, sys
load, total, segments = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(json.dumps({"samples": load["samples"], "failed_requests": load["failed_requests"],
                  "instructions": total, "instructions_per_sample": round(total / load["samples"], 1),
                  "metric_segments": segments}))
EOF
