#!/bin/sh
# Bounded state: N unique user names (default 1,000,000) through the whole pipeline (`osprey replay`, one
# login per name, one second apart, a mix of success and failure, a few source IPs), then the peak RSS.
# With --serve, the same lines go over TCP syslog to `osprey serve` (with state, checkpoints every 50000
# records and 5 s), and the peak RSS of the server is printed once every line was processed.
# Usage: scripts/bench_unique_users.sh [--serve] [N] [OSPREY_BINARY]
# (OSPREY_SERVE_EXTRA: more `key = value` lines for the serve section, e.g. "api_alert_limit = 1000")
set -eu
MODE=replay
if [ "${1:-}" = "--serve" ]; then MODE=serve; shift; fi
N=${1:-1000000}
BIN=${2:-.build/release/osprey}
TMP=${TMPDIR:-/tmp}/osprey-unique-users-$$
mkdir -p "$TMP"
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
awk -v n="$N" 'BEGIN {
  t = 1790553600   # 2026-09-28T00:00:00Z
  for (i = 0; i < n; i++) {
    s = t + i; d = strftime("%Y-%m-%dT%H:%M:%S+0000", s, 1)
    u = sprintf("flood%07d@spam-example.net", i); ip = sprintf("198.51.100.%d", i % 250)
    if (i % 3) printf "date=%s|mcType=auditLog|user=%s|auditType=\"User Logged On\"|eventInfo=\"Successful authentication for %s <x>, IP: %s, Application: mimecast-moa, Method: Office 365|app=mimecast-moa|src=%s|action=success\n", d, u, u, ip, ip
    else printf "date=%s|mcType=auditLog|user=%s|auditType=\"Logon Authentication Failed\"|eventInfo=\"Failed authentication for %s <x>, IP: %s, Application: mimecast-moa, Method: Office 365, Reason: Wrong password|app=mimecast-moa|src=%s|action=failure\n", d, u, u, ip, ip
  } }' > "$TMP/flood.log"
if [ "$MODE" = replay ]; then
  /usr/bin/time -v "$BIN" replay "$TMP/flood.log" --out "$TMP/alerts.jsonl" --state "$TMP/state" --checkpoint-records 250000 2> "$TMP/time.txt" || { cat "$TMP/time.txt"; exit 1; }
  grep -E "records read|totals|bounded state|time sanity|Maximum resident|Elapsed" "$TMP/time.txt"
  ls -l "$TMP/state/osprey.sqlite" | awk '{print "state database bytes: " $5}'
  exit 0
fi
# Serve: the flood is 2026-09-28 onwards, so time sanity (against the wall clock) lets it through.
cat > "$TMP/serve.conf" <<EOF
[serve bench]
tcp = 127.0.0.1:0
http = 127.0.0.1:0
auth = none
state = $TMP/state
${OSPREY_SERVE_EXTRA:-}
EOF
"$BIN" serve --config "$TMP/serve.conf" 2> "$TMP/serve.err" &
SERVER=$!
i=0
until grep -q "listening" "$TMP/serve.err"; do i=$((i + 1)); [ $i -lt 600 ] || { cat "$TMP/serve.err"; exit 1; }; sleep 0.1; done
# "listening … tcp=PORT http=PORT" (or HOST:PORT)
TCP=$(sed -n 's/.* tcp=\([^ ]*:\)\{0,1\}\([0-9][0-9]*\).*/\2/p' "$TMP/serve.err" | head -1)
HTTP=$(sed -n 's/.* http=\([^ ]*:\)\{0,1\}\([0-9][0-9]*\).*/\2/p' "$TMP/serve.err" | head -1)
START=$(date +%s)
python3 - "$TCP" "$TMP/flood.log" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "rb") as f:
    while True:
        b = f.read(1 << 16)
        if not b: break
        s.sendall(b)
s.close()
EOF
metric() { curl -s "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
until [ "$(metric osprey_lines_total)" = "$N" ]; do sleep 1; done
END=$(date +%s)
echo "serve: $N lines over TCP syslog processed in $((END - START)) s"
for m in osprey_identities_evicted_total osprey_sessions_dropped_total osprey_interner_compactions_total osprey_interned_strings_dropped_total osprey_tracked_identities osprey_interned_strings; do
  echo "  $m $(metric $m)"
done
grep -E "VmHWM|VmRSS" "/proc/$SERVER/status"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
ls -l "$TMP/state/osprey.sqlite" | awk '{print "state database bytes: " $5}'
