#!/usr/bin/env bash
# Python client suites: unmodified AWS Python clients against a real `watchtrail serve`.
#
#   .venv/py-current  current boto3 + AWS CLI v1   -> CloudWatch over awsJson1_0
#   .venv/py-legacy   botocore < 1.42.7 + boto3    -> CloudWatch over awsQuery
#
# Creates (or reuses) both virtualenvs under <repo>/.venv, builds the server, runs pytest in
# each venv, then requires the shared scenario's canonical results of the two venvs to be
# byte-identical. Needs only python3 (3.9+) with venv/pip and the Rust toolchain.
# Usage: tests/python/run.sh   (called by ./test.sh)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENVS="$ROOT/.venv"
started=$SECONDS

RESULTS="$(mktemp -d "${TMPDIR:-/tmp}/watchtrail-py-results.XXXXXX")"
cleanup() { rm -rf "$RESULTS"; }
trap cleanup EXIT

log() { printf '==> %s\n' "$*"; }

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' || {
  echo "tests/python/run.sh: $PYTHON is older than 3.9" >&2
  exit 1
}

# ensure_venv NAME REQUIREMENTS: create .venv/NAME if needed, install only when unmet.
ensure_venv() {
  local name="$1" reqs="$2" dir="$VENVS/$1"
  local t0=$SECONDS
  if [ -x "$dir/bin/python" ] && ! "$dir/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "venv $name is broken; recreating"
    rm -rf "$dir"
  fi
  if [ ! -x "$dir/bin/python" ]; then
    log "creating venv $name"
    "$PYTHON" -m venv "$dir"
  fi
  if "$dir/bin/python" "$HERE/requirements_met.py" "$reqs" >/dev/null 2>&1; then
    log "venv $name: requirements already satisfied (reused)"
  else
    "$dir/bin/python" "$HERE/requirements_met.py" "$reqs" || true
    log "venv $name: installing $(basename "$reqs")"
    "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$reqs"
    "$dir/bin/python" "$HERE/requirements_met.py" "$reqs" || {
      echo "venv $name: requirements still unmet after install" >&2
      exit 1
    }
  fi
  "$dir/bin/python" - <<'EOF'
import importlib.metadata as m
found = []
for name in ("boto3", "botocore", "awscli", "pytest"):
    try:
        found.append(f"{name} {m.version(name)}")
    except m.PackageNotFoundError:
        pass
print("    " + ", ".join(found))
EOF
  log "venv $name ready in $((SECONDS - t0))s"
}

ensure_venv py-current "$HERE/requirements-current.txt"
ensure_venv py-legacy "$HERE/requirements-legacy.txt"

log "building the server: cargo build -p watchtrail"
t0=$SECONDS
(cd "$ROOT" && cargo build -p watchtrail --locked)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/watchtrail"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[ -x "$BIN" ] || { echo "server binary $BIN not found after build" >&2; exit 1; }
log "server built in $((SECONDS - t0))s"

failed=()
# run_suite KIND: pytest in .venv/py-KIND; exit 5 (no tests collected) is a failure too.
run_suite() {
  local kind="$1" py="$VENVS/py-$1/bin/python" rc=0 t0=$SECONDS
  log "pytest in py-$kind (expects $([ "$kind" = current ] && echo awsJson1_0 || echo awsQuery))"
  (
    cd "$HERE"
    WATCHTRAIL_BIN="$BIN" WATCHTRAIL_PY_VENV="$kind" WATCHTRAIL_PY_RESULTS="$RESULTS" \
      PYTHONDONTWRITEBYTECODE=1 "$py" -m pytest
  ) || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "py-$kind: pytest collected no tests" >&2
  fi
  if [ "$rc" -ne 0 ]; then
    failed+=("py-$kind (pytest exit $rc)")
  fi
  log "py-$kind finished in $((SECONDS - t0))s (exit $rc)"
}

run_suite current
run_suite legacy

log "comparing the shared scenario's canonical results (current vs legacy)"
if [ ! -s "$RESULTS/current.json" ] || [ ! -s "$RESULTS/legacy.json" ]; then
  echo "missing scenario result file(s) in $RESULTS:" >&2
  ls -l "$RESULTS" >&2 || true
  failed+=("scenario results missing")
elif cmp -s "$RESULTS/current.json" "$RESULTS/legacy.json"; then
  echo "same scenario, identical numbers ($(wc -c <"$RESULTS/current.json") bytes each)"
else
  echo "same scenario, DIFFERENT numbers: awsJson1_0 (current) vs awsQuery (legacy):" >&2
  diff -u --label current.json --label legacy.json "$RESULTS/current.json" "$RESULTS/legacy.json" | head -n 80 >&2 || true
  failed+=("scenario results differ between venvs")
fi

log "python suites took $((SECONDS - started))s"
if [ "${#failed[@]}" -ne 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "python suites: all passed"
