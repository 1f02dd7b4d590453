#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer); docs/TESTING.md, "Fuzzing".
#
#   scripts/fuzz.sh build              build every target
#   scripts/fuzz.sh replay [TARGET]    run each target over its committed corpus only (fuzz/corpus/<t>)
#   scripts/fuzz.sh run SECONDS [TARGET]   fuzz each target for SECONDS (one at a time)
#   scripts/fuzz.sh runs N [TARGET]    fuzz each target for N executions
#   scripts/fuzz.sh corpus             regenerate the seed corpus from the fixtures (keeps crash-*)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install --locked cargo-fuzz`).
# New inputs found while fuzzing go to fuzz/work/<t> (git-ignored); crashes to
# fuzz/artifacts/<t>/. Targets are built without a sanitizer (`-s none`: safe Rust,
# the fuzzer hunts panics, overflows and failed assertions) with overflow checks
# and debug assertions on (fuzz/Cargo.toml). Runs niced: the machine is shared.
#
# Every target runs even if an earlier one crashed; the script fails at the end
# if any did, except targets listed in FUZZ_KNOWN_CRASHES (space-separated),
# whose crashes are reported but do not fail it (for a known crash under
# repair; CI lists none).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ=(cargo +nightly fuzz)
# FUZZ_DEV=1 builds the targets unoptimised (the dev profile): a cold build
# takes a fraction of the time, for CI's corpus replay and short runs; long
# campaigns use the default optimised build.
PROFILE=()
[ "${FUZZ_DEV:-0}" = 1 ] && PROFILE=(--dev)
# Bounds on one input: size and time (a slow input is a finding too).
LIBFUZZER_FLAGS=(-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

targets() {
  if [ $# -gt 0 ] && [ -n "$1" ]; then echo "$1"; else "${FUZZ[@]}" list; fi
}

failed=()
known=()
# Runs one libFuzzer command for target $1 (the rest), recording a crash.
fuzz_one() {
  local t="$1"
  shift
  if ! nice -n 10 "${FUZZ[@]}" run -s none "${PROFILE[@]}" "$t" "$@"; then
    if [[ " ${FUZZ_KNOWN_CRASHES:-} " == *" $t "* ]]; then known+=("$t"); else failed+=("$t"); fi
  fi
}

finish() {
  [ ${#known[@]} -eq 0 ] || echo "fuzz: known crashes (FUZZ_KNOWN_CRASHES) in: ${known[*]}"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
  fi
}

build() {
  nice -n 10 "${FUZZ[@]}" build -s none "${PROFILE[@]}"
}

mode="${1:-}"
case "$mode" in
  build)
    build
    ;;
  replay)
    build
    for t in $(targets "${2:-}"); do
      echo "== replay $t ($(ls "fuzz/corpus/$t" | wc -l) inputs)"
      fuzz_one "$t" "fuzz/corpus/$t" -- "${LIBFUZZER_FLAGS[@]}" -runs=0
    done
    finish
    ;;
  run | runs)
    amount="${2:?usage: scripts/fuzz.sh $mode AMOUNT [TARGET]}"
    build
    if [ "$mode" = run ]; then limit=(-max_total_time="$amount"); else limit=(-runs="$amount"); fi
    for t in $(targets "${3:-}"); do
      echo "== fuzz $t (${limit[*]})"
      mkdir -p "fuzz/work/$t"
      fuzz_one "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- "${LIBFUZZER_FLAGS[@]}" "${limit[@]}"
    done
    finish
    ;;
  corpus)
    # Generated seeds are replaced; crash-* files are regression inputs
    # (fuzzer finds, now fixed) and stay.
    [ -d fuzz/corpus ] && find fuzz/corpus -type f ! -name 'crash-*' -delete
    cargo run --release --quiet --manifest-path fuzz/Cargo.toml -p synod-fuzz-support --bin gen-corpus -- fuzz/corpus
    ;;
  *)
    sed -n '2,9p' "$0"
    exit 2
    ;;
esac
