#!/usr/bin/env bash
# `make bench`: side-by-side benchmarks of the gateway against nginx and PHP-FPM.
# Writes bench/results/latest.md (committed) and bench/results/raw/ (ignored by git).
#
#   BENCH_QUICK=1 make bench          smoke run: 1 round, 1 s per measurement, seed scale 100
#   BENCH_RUNS=5 BENCH_DURATION=10 make bench
#   BENCH_PARTS=1,4 make bench        only pass-through and growth
#
# Every server listens on 127.0.0.1 on a free port and is stopped on exit; configurations are
# generated into a temporary directory. See bench/README.md for what is measured and how.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "bench: $PY is missing; run 'make setup' first" >&2; exit 1; }

missing=()
for tool in wrk nginx taskset php; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
command -v php-fpm8.2 >/dev/null 2>&1 || [ -x /usr/sbin/php-fpm8.2 ] || missing+=("php-fpm8.2")
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: missing tools: ${missing[*]}" >&2
    echo "bench: on Debian: apt-get install -y wrk nginx-light php-fpm php-cli php-mysql php-sqlite3" >&2
    exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "bench: needs 2 cores (one for the load generator, one for the server under test)" >&2
    exit 1
fi
if ! "$PY" -c "import sys; sys.exit(0)" 2>/dev/null; then exit 1; fi
if [ ! -x "$ROOT/.venv/bin/py-spy" ]; then
    echo "bench: py-spy not in the venv; profiles are skipped (.venv/bin/pip install py-spy)" >&2
fi

export PATH="/usr/sbin:$PATH"
BENCH_TMP=$(mktemp -d /tmp/strangler-bench.XXXXXX)
export BENCH_TMP
export BENCH_RAW="${BENCH_RAW:-$ROOT/bench/results/raw}"
mkdir -p "$BENCH_RAW"

driver_pid=""
cleanup() {
    status=$?
    if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
        kill -TERM "$driver_pid" 2>/dev/null || true
        wait "$driver_pid" 2>/dev/null || true
    fi
    # whatever the driver started and left behind: its own process groups, by id
    if [ -f "$BENCH_TMP/pids" ]; then
        while read -r pid; do
            [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
        done <"$BENCH_TMP/pids"
    fi
    rm -rf "$BENCH_TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$PY" -m bench.driver "$@" &
driver_pid=$!
wait "$driver_pid"
