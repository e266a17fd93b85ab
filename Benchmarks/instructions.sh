#!/usr/bin/env bash
# Instructions executed (valgrind callgrind) per connector line, per mixed line and per replayed line, and
# at start-up, on inputs generated the same way every time. CPU seconds on a shared VM move by 10-40% from
# run to run; these counts repeat exactly, so two commits compare by running this on each (`make
# bench-instructions`). They are a proxy: memory stalls and SIMD width do not show in them.
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "instructions: valgrind not found (scripts/setup.sh --instructions installs it)" >&2; exit 1; }
lines=${INSTRUCTION_LINES:-20000}
users=${INSTRUCTION_USERS:-60}
# The builds measured (another checkout's Benchmarks/.build/release gives the figures of another commit).
build=${INSTRUCTION_BUILD:-.build/release}
work=$(mktemp -d /tmp/osprey-instructions.XXXXXX)
trap 'rm -rf "$work"' EXIT

# valgrind 3.19 cannot read the DWARF 5 debug information Swift 6 writes: count on copies without it
# (the symbol table stays, so callgrind profiles of these copies still name functions).
strip --strip-debug -o "$work/osprey" "$build/osprey"
strip --strip-debug -o "$work/bench" "$build/osprey-bench-report"

# Inputs: the report's generators (mixed shapes, connector lines among them) and a generated organization.
"$build/osprey-bench-report" run --lines "$lines" --users "$users" --keep "$work/in" >/dev/null
head -n 1 "$work/in/connectors.log" >"$work/one.log"
: >"$work/empty.log"
mkdir -p "$work/none" && : >"$work/none/empty.log"

# A fixed hash seed: Swift seeds Set and Dictionary hashing per process, which moves the counts slightly.
export SWIFT_DETERMINISTIC_HASHING=1
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/Collected/ {print $4}'; }
per() { echo $(( ($1 - $2) / $3 )); }

connector_lines=$(wc -l <"$work/in/connectors.log")
mixed_lines=$(wc -l <"$work/in/mixed.log")
org_lines=$(cat "$work"/in/org/logs/* | wc -l)

base=$(count "$work/bench" parse --no-output "$work/one.log")
connector=$(count "$work/bench" parse --no-output "$work/in/connectors.log")
mixed=$(count "$work/bench" parse --no-output "$work/in/mixed.log")
startup=$(count "$work/osprey" replay "$work/none" --context "$work/in/org/context" --threads 1 --out /dev/null)
replay=$(count "$work/osprey" replay "$work/in/org/logs" --context "$work/in/org/context" --threads 1 --out /dev/null)

printf '%-52s %12s\n' "instructions (callgrind)" "count"
printf '%-52s %12s\n' "parse engine, per connector line ($connector_lines lines)" "$(per "$connector" "$base" "$connector_lines")"
printf '%-52s %12s\n' "parse engine, per mixed line ($mixed_lines lines)" "$(per "$mixed" "$base" "$mixed_lines")"
printf '%-52s %12s\n' "osprey replay --threads 1, per line ($org_lines lines)" "$(per "$replay" "$startup" "$org_lines")"
printf '%-52s %12s\n' "osprey replay start-up (context and content loaded)" "$startup"
