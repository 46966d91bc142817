#!/usr/bin/env bash
# A cluster on this machine: a supervisor and two nodes on loopback, running the machine-data case study
# (examples/machine-data/app.ts) across them, then the cluster's status. Usage, from anywhere:
#
#   examples/cluster/run-local.sh                       60 windows of 100 ms
#   WINDOWS=200 KILL_NODE=1 examples/cluster/run-local.sh   node-a is killed with SIGKILL mid-run: its
#                                                       containers restart on node-b, the output is the same
#
# Settings: PORT (default 7400), WINDOWS (60), WINDOW_MS (100), WORK (a fresh temporary directory: the
# store, the logs, and the outputs under $WORK/out), KILL_NODE (unset), CONSOLE and METRICS (unset: a
# HOST:PORT where the supervisor serves the web console, Prometheus metrics), and the application's own
# settings as variables (examples/machine-data/README.md), e.g. TIME_ORIGIN=2026-12-01T00:00:00Z: the
# readings are stamped from that time, so this run's outputs equal another run's file for file. On a real cluster each of these
# processes runs on its own machine (systemd, Kubernetes) with SLUICE_SECRET set; see docs/cluster.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-7400}
WINDOWS=${WINDOWS:-60}
WORK=${WORK:-$(mktemp -d -t sluice-cluster-XXXXXX)}
mkdir -p "$WORK"
export WINDOW_MS=${WINDOW_MS:-100}
export MACHINE_DATA_OUT=${MACHINE_DATA_OUT:-$WORK/out}
URL=ws://127.0.0.1:$PORT
sluice() { node src/cli/bin.js "$@"; }
# Long-running processes are started with node directly, so that $! is their own pid (not a subshell's).
SLUICE=(node src/cli/bin.js)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Waits (at most 60 s) until the file holds the pattern.
wait_for() {
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "run-local: timed out waiting for '$2' in $1" >&2
  cat "${1%.out}.log" >&2 || true
  exit 1
}

echo "work directory: $WORK"
# CONSOLE=127.0.0.1:8080 / METRICS=127.0.0.1:9464: the supervisor serves the console / Prometheus metrics.
watch=()
[[ -n "${CONSOLE:-}" ]] && watch+=(--console "$CONSOLE")
[[ -n "${METRICS:-}" ]] && watch+=(--metrics "$METRICS")
"${SLUICE[@]}" supervisor --listen "127.0.0.1:$PORT" --store "$WORK/store" "${watch[@]}" >"$WORK/supervisor.out" 2>"$WORK/supervisor.log" &
pids+=($!)
wait_for "$WORK/supervisor.out" listening
for id in node-a node-b; do
  "${SLUICE[@]}" node --join "$URL" --id "$id" --containers 2 >"$WORK/$id.out" 2>"$WORK/$id.log" &
  pids+=($!)
done
pid_node_a=${pids[1]}
wait_for "$WORK/node-a.out" joined
wait_for "$WORK/node-b.out" joined
sluice status --cluster "$URL"

if [ -n "${KILL_NODE:-}" ]; then
  "${SLUICE[@]}" launch examples/machine-data/app.ts --cluster "$URL" --windows "$WINDOWS" >"$WORK/launch.out" 2>&1 &
  launcher=$!
  # Once the first application window's averages are out, node-a dies without a word.
  for _ in $(seq 1 600); do
    [ -n "$(ls "$MACHINE_DATA_OUT/averages" 2>/dev/null)" ] && break
    sleep 0.2
  done
  echo "killing node-a (pid $pid_node_a) with SIGKILL"
  kill -9 "$pid_node_a"
  wait "$launcher" || true
  cat "$WORK/launch.out"
else
  sluice launch examples/machine-data/app.ts --cluster "$URL" --windows "$WINDOWS"
fi
sluice status --cluster "$URL"
echo "supervisor log:"
sed 's/^/  /' "$WORK/supervisor.log"
echo "outputs under $MACHINE_DATA_OUT:"
for d in "$MACHINE_DATA_OUT"/*/; do echo "  $(basename "$d"): $(find "$d" -type f -not -path '*/.fence/*' | wc -l) files"; done
