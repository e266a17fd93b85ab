#!/bin/sh
# Bounded state: N unique user names (default 1,000,000) through the whole pipeline (`osprey replay`, one
# login per name, one second apart, a mix of success and failure, a few source IPs), then the peak RSS.
# Usage: scripts/bench_unique_users.sh [N] [OSPREY_BINARY]
set -eu
N=${1:-1000000}
BIN=${2:-.build/release/osprey}
TMP=${TMPDIR:-/tmp}/osprey-unique-users-$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
awk -v n="$N" 'BEGIN {
  t = 1790553600   # 2026-09-28T00:00:00Z
  for (i = 0; i < n; i++) {
    s = t + i; d = strftime("%Y-%m-%dT%H:%M:%S+0000", s, 1)
    u = sprintf("flood%07d@spam-example.net", i); ip = sprintf("198.51.100.%d", i % 250)
    if (i % 3) printf "date=%s|mcType=auditLog|user=%s|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for %s <x>, IP: %s, Application: mimecast-moa, Method: Office 365|app=mimecast-moa|src=%s|action=success\n", d, u, u, ip, ip
    else printf "date=%s|mcType=auditLog|user=%s|auditType=\"Logon Authentication Failed\"|eventInfo=\"Failed authentication for %s <x>, IP: %s, Application: mimecast-moa, Method: Office 365, Reason: Wrong password|app=mimecast-moa|src=%s|action=failure\n", d, u, u, ip, ip
  } }' > "$TMP/flood.log"
/usr/bin/time -v "$BIN" replay "$TMP/flood.log" --out "$TMP/alerts.jsonl" --state "$TMP/state" --checkpoint-records 250000 2> "$TMP/time.txt" || { cat "$TMP/time.txt"; exit 1; }
grep -E "records read|totals|bounded state|time sanity|Maximum resident|Elapsed" "$TMP/time.txt"
ls -l "$TMP/state/osprey.sqlite" | awk '{print "state database bytes: " $5}'
