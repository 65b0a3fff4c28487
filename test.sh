#!/usr/bin/env bash
# Runs every Watchtrail test: the Rust workspace (unit, integration, end-to-end with the
# official AWS SDK for Rust) and the Python suites (boto3, legacy botocore, AWS CLI) in a
# virtualenv this script creates. Usage: ./test.sh   (no arguments; installs what it needs)
set -euo pipefail
cd "$(dirname "$0")"

echo "==> Rust: cargo test --workspace"
cargo test --workspace --locked

echo "==> Fuzz targets compile (run them with cargo fuzz; see fuzz/README.md)"
cargo check --manifest-path fuzz/Cargo.toml --bins --locked

if [ -x tests/python/run.sh ]; then
  echo "==> Python: boto3 (JSON 1.0), botocore<1.42.7 (Query), AWS CLI"
  tests/python/run.sh
fi
echo "==> all tests passed"
