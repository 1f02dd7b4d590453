#!/usr/bin/env bash
# API conformance checks (docs/TESTING.md): starts a 3-node `synod dev` cluster,
# a single node and a proof-of-work network, runs `promtool check metrics` on
# each kind's /metrics, and `schemathesis run --checks all` against the
# single node's and the cluster leader's /openapi.json, then stops everything.
# Exits non-zero if any check fails.
#
#   scripts/api-checks.sh TARGET_DIR_OR_BINARY     e.g. target, or target/release/synod
#
# Needs promtool (Debian: prometheus) and schemathesis (scripts/requirements.txt).
# Bounds: SCHEMATHESIS_MAX_TIME seconds (default 45) and SCHEMATHESIS_MAX_EXAMPLES
# cases per operation and phase (default 30) for each schemathesis run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

[ $# -eq 1 ] || { echo "usage: $0 TARGET_DIR_OR_BINARY" >&2; exit 2; }
if [ -d "$1" ]; then synod="$(cd "$1" && pwd)/release/synod"; else synod="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; fi
[ -x "$synod" ] || { echo "no synod binary at $synod" >&2; exit 2; }
for tool in promtool schemathesis curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
max_time="${SCHEMATHESIS_MAX_TIME:-45}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-30}"

work="$(mktemp -d)"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT

# start NAME NODES ARGS...: runs `synod dev` in $work/NAME and waits until its
# last node logs its address; url NAME N prints node N's base URL.
start() {
  local name="$1" last="$2"
  shift 2
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "$synod" dev --data-dir ledger --port 0 "$@") >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    grep -q "node $last listening on" "$work/$name.log" && return 0
    sleep 0.1
  done
  cat "$work/$name.log"
  echo "synod dev ($name) did not start" >&2
  exit 1
}
url() { grep -o "node $2 listening on http://[0-9.:]*" "$work/$1.log" | awk '{print $5}'; }

start single 1 --nodes 1
start cluster 3 --nodes 3
start pow 3 --consensus pow

failed=()

check_metrics() {
  local what="$1" base="$2" headers="$work/metrics.headers"
  echo "== promtool check metrics: $what ($base/metrics)"
  if ! curl -fsS -D "$headers" -o "$work/metrics.txt" "$base/metrics"; then
    failed+=("metrics of $what: request failed")
    return
  fi
  if ! grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$headers"; then
    failed+=("metrics of $what: wrong content type: $(grep -i '^content-type' "$headers" || true)")
  fi
  if ! promtool check metrics <"$work/metrics.txt"; then
    failed+=("promtool check metrics: $what")
  fi
}

# The cluster's leader serves writes itself (followers forward them).
leader=""
for _ in $(seq 1 100); do
  for n in 1 2 3; do
    role="$(curl -fsS "$(url cluster "$n")/v1/status" 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("cluster", {}).get("role", ""))' 2>/dev/null || true)"
    if [ "$role" = "leader" ]; then leader="$(url cluster "$n")"; break 2; fi
  done
  sleep 0.1
done
[ -n "$leader" ] || { failed+=("the cluster elected no leader"); leader="$(url cluster 1)"; }

check_metrics "single node" "$(url single 1)"
check_metrics "cluster leader" "$leader"
check_metrics "cluster node 2" "$(url cluster 2)"
check_metrics "proof-of-work node" "$(url pow 1)"

run_schemathesis() {
  local what="$1" base="$2"
  echo "== schemathesis: $what ($base/openapi.json)"
  # Run from $work so that schemathesis' cache stays out of the tree.
  if ! (cd "$work" && SCHEMATHESIS_HOOKS="$repo/scripts/schemathesis_hooks.py" \
    schemathesis --config-file "$repo/scripts/schemathesis.toml" run "$base/openapi.json" \
    --checks all --max-examples "$max_examples" --max-time "$max_time" --request-timeout 15 \
    --workers 1 --seed "${SCHEMATHESIS_SEED:-1}" --no-color); then
    failed+=("schemathesis: $what")
  fi
}

run_schemathesis "single node" "$(url single 1)"
run_schemathesis "cluster leader" "$leader"

if [ ${#failed[@]} -gt 0 ]; then
  printf 'api-checks FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "api-checks: promtool and schemathesis passed"
