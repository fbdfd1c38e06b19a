#!/usr/bin/env bash
# berth scan's matching core on a generated OSV database of 100,000
# advisories (one all.zip, as osv.dev publishes them) and an SBOM of 2,000
# packages (dpkg, apk, PyPI and npm), measured by build/bench/scan_bench:
# the database load, the match, and the peak RSS. Targets: load under 2 s,
# match under 0.5 s, peak RSS under 64 MiB. Prints the numbers; asserts
# nothing.
#
#   bench/scan.sh [ADVISORIES [PACKAGES]]
set -euo pipefail
cd "$(dirname "$0")/.."
n_adv=${1:-100000}
n_pkg=${2:-2000}
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-scan.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

make -s -j2 build/bench/scan_bench
python3 - "$work" "$n_adv" "$n_pkg" <<'PY'
import json, random, sys, zipfile
work, n_adv, n_pkg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(1)
ecos = [("Debian:12", "deb"), ("Alpine:v3.18", "apk"), ("PyPI", "pypi"), ("npm", "npm")]
def ver(kind, i):
    if kind == "deb":
        return "%d.%d.%d-%d~deb12u%d" % (i % 5, i % 13, i % 7, i % 3 + 1, i % 4)
    if kind == "apk":
        return "%d.%d.%d-r%d" % (i % 5, i % 13, i % 7, i % 3)
    if kind == "pypi":
        return "%d.%d.%d" % (i % 5, i % 13, i % 7)
    return "%d.%d.%d" % (i % 5, i % 13, i % 7)
# package names: 20,000 per ecosystem, the SBOM draws from the same pool
names = ["pkg%05d" % i for i in range(20000)]
with zipfile.ZipFile(work + "/all.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(n_adv):
        eco, kind = ecos[i % 4]
        name = rnd.choice(names)
        d = {"id": "BENCH-%06d" % i, "modified": "2024-01-01T00:00:00Z",
             "aliases": ["CVE-2024-%05d" % i],
             "summary": "generated advisory %d for %s" % (i, name),
             "severity": [{"type": "CVSS_V3",
                           "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:%s/S:U/C:H/I:%s/A:N"
                           % (rnd.choice("NR"), rnd.choice("HLN"))}],
             "affected": [{"package": {"ecosystem": eco, "name": name},
                           "ranges": [{"type": "ECOSYSTEM", "events": [
                               {"introduced": "0"}, {"fixed": ver(kind, rnd.randrange(1000))}]}]}]}
        z.writestr("BENCH-%06d.json" % i, json.dumps(d))
comps = []
for i in range(n_pkg):
    eco, kind = ecos[i % 4]
    name, v = rnd.choice(names), ver(kind, rnd.randrange(1000))
    purl = {"deb": "pkg:deb/debian/%s@%s?distro=debian-12",
            "apk": "pkg:apk/alpine/%s@%s?distro=alpine-3.18.4",
            "pypi": "pkg:pypi/%s@%s", "npm": "pkg:npm/%s@%s"}[kind] % (name, v)
    comps.append({"type": "library", "name": name, "version": v, "purl": purl})
json.dump({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": comps},
          open(work + "/sbom.json", "w"))
PY
echo "bench/scan.sh: $n_adv advisories ($(du -h "$work/all.zip" | cut -f1) zip), $n_pkg packages"
build/bench/scan_bench "$work/all.zip" "$work/sbom.json"
echo "targets: load < 2 s, match < 0.5 s, peak RSS < 64 MiB"
