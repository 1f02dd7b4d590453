#!/usr/bin/env bash
# Side-by-side: the same load shapes against a 3-member etcd cluster and a 1-node Synod.
#
#   scripts/bench-etcd.sh            # DURATION=10 seconds per shape; KEEP=1 keeps the temp dir
#
# etcd (Debian's etcd-server/etcd-client, 3.4 on bookworm): 3 members on 127.0.0.1 with distinct
# ports and data dirs under a temp dir; load with wrk through etcd's JSON gateway (POST /v3/kv/put,
# 256-byte values, a distinct key per request) at 1 and 128 connections, sent to the leader.
# Synod: `synod dev --nodes 1` (ONE node, no replication) and, where this build has it,
# `synod dev --nodes 3` (a 3-node Multi-Paxos cluster, all three nodes in one process), loaded at
# its leader with `synod bench` at 1 and 128 clients x 1 signed transfer/request.
# Both are closed-loop loads: each connection/client sends its next request when the previous
# one is answered. All traffic goes to 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/synod-bench-etcd.XXXXXX")
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }

# --- tools -------------------------------------------------------------------------------------
apt_has() { # (no `| grep -q` here: with pipefail, grep's early exit would fail the pipe)
    local policy
    policy=$(apt-cache policy "$1" 2>/dev/null || true)
    [[ "$policy" == *"Candidate: "[0-9]* ]]
}
install_pkgs() {
    if [ "$(id -u)" != 0 ]; then
        echo "need root to apt-get install $*" >&2
        exit 1
    fi
    apt-get install -y -q "$@" >/dev/null
}
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null || ! command -v wrk >/dev/null; then
    say "installing etcd and wrk from Debian packages"
    apt_has wrk || apt_has etcd-server || apt_has etcd || apt-get update -q >/dev/null
    pkgs=(wrk)
    if apt_has etcd-server; then
        pkgs+=(etcd-server etcd-client)   # Debian 12 (bookworm) and later
    elif apt_has etcd; then
        pkgs+=(etcd)                      # older Debian/Ubuntu: one package
    else
        echo "no etcd package found (apt-cache policy etcd-server etcd)" >&2
        exit 1
    fi
    install_pkgs "${pkgs[@]}"
fi
command -v python3 >/dev/null || install_pkgs python3
command -v curl >/dev/null || install_pkgs curl

SYNOD=${SYNOD:-}
if [ -z "$SYNOD" ]; then
    say "building synod (release)"
    (cd "$ROOT" && cargo build -q -p synod-cli --release)
    SYNOD="${CARGO_TARGET_DIR:-$ROOT/target}/release/synod"
fi

say "machine"
lscpu | grep 'Model name' || true
echo "nproc: $(nproc)   (load generators and servers share these CPUs)"
echo "uptime: $(uptime)"
etcd --version | sed -n 1p
wrk --version 2>&1 | sed -n 1p || true

# --- etcd: 3 members --------------------------------------------------------------------------
say "starting 3 etcd members in $WORK"
CLUSTER=""
for i in 1 2 3; do
    CLUSTER+="${CLUSTER:+,}m$i=http://127.0.0.1:$((32380 + 100 * i))"
done
for i in 1 2 3; do
    cport=$((32379 + 100 * i))
    pport=$((32380 + 100 * i))
    etcd --name "m$i" --data-dir "$WORK/etcd-m$i" \
        --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$CLUSTER" --initial-cluster-token synod-bench --initial-cluster-state new \
        --log-level warn >"$WORK/etcd-m$i.log" 2>&1 &
    PIDS+=($!)
done
ENDPOINTS="http://127.0.0.1:32479,http://127.0.0.1:32579,http://127.0.0.1:32679"
for _ in $(seq 1 60); do
    if ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" endpoint health >/dev/null 2>&1; then break; fi
    sleep 0.5
done
ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" endpoint health
LEADER=$(ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" endpoint status -w json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["Status"]["leader"] == s["Status"]["header"]["member_id"]:
        print(s["Endpoint"])
        break
')
echo "leader: $LEADER"

cat >"$WORK/put.lua" <<'EOF'
-- wrk: POST /v3/kv/put through etcd's JSON gateway; base64 key and 256-byte value.
local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64(data)
    return ((data:gsub('.', function(x)
        local r, b = '', x:byte()
        for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and '1' or '0') end
        return r
    end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
        if #x < 6 then return '' end
        local c = 0
        for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
        return alphabet:sub(c + 1, c + 1)
    end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
local value = b64(string.rep('v', 256))
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set('tid', threads)
end
function init(args)
    counter = 0
end
function request()
    counter = counter + 1
    local key = b64('bench/' .. tostring(tid) .. '/' .. counter)
    return wrk.format('POST', '/v3/kv/put', { ['Content-Type'] = 'application/json' },
        '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
EOF

run_wrk() { # conns threads out
    wrk -t"$2" -c"$1" -d"${DURATION}s" --latency -s "$WORK/put.lua" "$LEADER/v3/kv/put" >"$3"
}
say "etcd: warmup (2 s, 16 connections)"
wrk -t2 -c16 -d2s -s "$WORK/put.lua" "$LEADER/v3/kv/put" >/dev/null
say "etcd: 1 connection, ${DURATION} s"
run_wrk 1 1 "$WORK/etcd-1.txt"
cat "$WORK/etcd-1.txt"
say "etcd: 128 connections, ${DURATION} s"
run_wrk 128 2 "$WORK/etcd-128.txt"
cat "$WORK/etcd-128.txt"

# Stop etcd before Synod runs, so the two never compete for the CPUs.
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()

# --- synod: 1 node, then a 3-node cluster ----------------------------------------------------------
# run_synod NODES PORT: start `synod dev --nodes NODES` (all nodes in one process), load its leader.
run_synod() {
    local n=$1 port=$2 leader=1 url
    "$SYNOD" dev --nodes "$n" --data-dir "$WORK/synod-$n" --port "$port" >"$WORK/synod-dev-$n.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 60); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
        sleep 0.5
    done
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null
    if [ "$n" -gt 1 ]; then
        for _ in $(seq 1 40); do
            if grep -q ' leads' "$WORK/synod-dev-$n.log"; then break; fi
            sleep 0.5
        done
        leader=$(sed -n 's/.*; node \([0-9]*\) leads.*/\1/p' "$WORK/synod-dev-$n.log" | head -1)
        leader=${leader:-1}
    fi
    url="http://127.0.0.1:$((port + leader - 1))"
    for c in 1 128; do
        say "synod: $n node(s), $c client(s) x 1 signed transfer/request to the leader $url, ${DURATION} s"
        "$SYNOD" bench --node "$url" --keys "$WORK/synod-$n/keys" --clients "$c" \
            --duration "$DURATION" --json >"$WORK/synod-$n-$c.json"
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["results"]["committed_per_s"]), "transfers/s; latency us", r["latency_us"], "; errors", r["errors"]["total"], "; consensus", r["target"]["consensus"], "; check ok:", r["check"]["ok"])' "$WORK/synod-$n-$c.json"
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PIDS=()
}

say "synod: ONE node (synod dev --nodes 1: no replication)"
run_synod 1 37001
if "$SYNOD" dev --help 2>/dev/null | grep -q -- '3 or 5'; then
    say "synod: 3-node Multi-Paxos cluster (synod dev --nodes 3: three nodes in ONE process, one disk)"
    run_synod 3 37011
else
    echo "this synod build has no cluster mode (synod dev --nodes 3): only the 1-node figures are compared"
fi

# --- side by side -------------------------------------------------------------------------------
say "side by side (closed loop, ${DURATION} s each; same machine, nothing else of ours running)"
python3 - "$WORK" <<'EOF'
import json, re, sys
work = sys.argv[1]

def ms(text):
    m = re.match(r'([\d.]+)(us|ms|s|m)$', text)
    v, unit = float(m.group(1)), m.group(2)
    return v * {'us': 0.001, 'ms': 1.0, 's': 1000.0, 'm': 60000.0}[unit]

def wrk(path):
    t = open(path).read()
    out = {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1))}
    for q in ('50', '90', '99'):
        m = re.search(r'^\s+' + q + r'%\s+(\S+)', t, re.M)
        out['p' + q] = ms(m.group(1)) if m else float('nan')
    m = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', t)
    errs = int(m.group(1)) if m else 0
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', t)
    if m:
        errs += sum(int(x) for x in m.groups())
    out['errors'] = errs
    return out

def synod(path):
    r = json.load(open(path))
    l = r['latency_us']
    return {'rps': r['results']['committed_per_s'], 'p50': l['p50'] / 1000, 'p90': l['p90'] / 1000,
            'p99': l['p99'] / 1000, 'errors': r['errors']['total'], 'ok': r['check']['ok']}

rows = []
for n in ('1', '128'):
    rows.append((f'etcd 3-node, {n} conn (puts/s)', wrk(f'{work}/etcd-{n}.txt')))
    for nodes in ('1', '3'):
        path = f'{work}/synod-{nodes}-{n}.json'
        try:
            rows.append((f'synod {nodes}-node, {n} client (transfers/s)', synod(path)))
        except FileNotFoundError:
            pass
print(f"{'system and load':42} {'ops/s':>10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
for name, r in rows:
    print(f"{name:42} {r['rps']:10.0f} {r['p50']:8.2f} {r['p90']:8.2f} {r['p99']:8.2f} {r['errors']:7d}")
for n in ('1', '128'):
    e = wrk(f'{work}/etcd-{n}.txt')
    for nodes in ('1', '3'):
        try:
            s = synod(f'{work}/synod-{nodes}-{n}.json')
        except FileNotFoundError:
            continue
        print(f"at {n:>3}: synod {nodes}-node / etcd 3-node throughput {s['rps'] / e['rps']:.2f}, "
              f"p50 {s['p50'] / e['p50']:.2f}x; every acknowledged transfer found: {'OK' if s['ok'] else 'FAILED'}")
print("notes: synod 1-node has no replication. synod 3-node runs its three nodes in one process on one disk;")
print("etcd's three members are three processes on the same disk. Everything shares the same 2 CPUs with the load generator.")
EOF
