#!/usr/bin/env bash
# berth scan: a generated OSV database (directory and all.zip) against
# generated CycloneDX and SPDX SBOMs; the table, --json, --fail-on's exit
# status, --update from a server on 127.0.0.1, and bad input.
. tests/integration/lib.sh

mkdir -p "$T/db/nested" "$T/zip/Debian"
python3 - "$T" <<'PY'
import json, os, sys, zipfile
t = sys.argv[1]
def adv(id, eco, name, events, sev=None, word=None, versions=None, typ="ECOSYSTEM"):
    d = {"id": id, "summary": "%s in %s" % (id, name), "aliases": ["CVE-" + id],
         "affected": [{"package": {"ecosystem": eco, "name": name},
                       "ranges": [{"type": typ, "events": events}]}]}
    if versions:
        d["affected"][0]["versions"] = versions
    if sev:
        d["severity"] = [{"type": "CVSS_V3", "score": sev}]
    if word:
        d["database_specific"] = {"severity": word}
    return d
docs = [
    adv("DSA-5532-1", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
        sev="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    adv("DSA-9999-1", "Debian:11", "openssl", [{"introduced": "0"}, {"fixed": "9.0"}],
        sev="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    adv("GHSA-jinja", "PyPI", "Jinja2", [{"introduced": "0"}, {"fixed": "3.1.3"}], word="MODERATE"),
    adv("GHSA-lodash", "npm", "lodash", [{"introduced": "4.0.0"}, {"fixed": "4.17.21"}], word="HIGH",
        typ="SEMVER"),
    adv("ALPINE-musl", "Alpine:v3.18", "musl", [{"introduced": "0"}, {"fixed": "1.2.4-r2"}],
        sev="CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:L"),
    adv("GHSA-old", "PyPI", "jinja2", [{"introduced": "0"}, {"fixed": "2.0"}], word="CRITICAL"),
]
# an advisory with 10,000 ranges, one of which holds the installed version
big = adv("BIG-1", "npm", "left-pad", [], word="LOW")
big["affected"][0]["ranges"] = [
    {"type": "SEMVER", "events": [{"introduced": "%d.0.0" % i}, {"fixed": "%d.0.1" % i}]}
    for i in range(10000)]
docs.append(big)
for i, d in enumerate(docs):
    sub = "nested/" if i % 2 else ""
    json.dump(d, open("%s/db/%s%s.json" % (t, sub, d["id"]), "w"))
open(t + "/db/broken.json", "w").write('{"id": "X", "affected": [')
open(t + "/db/README.txt", "w").write("not an advisory, not read\n")
with zipfile.ZipFile(t + "/zip/Debian/all.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for d in docs:
        z.writestr(d["id"] + ".json", json.dumps(d))
    z.writestr("broken.json", "{")
cdx = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [
    {"type": "library", "name": "libssl3", "version": "3.0.11-1~deb12u1",
     "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12"},
    {"type": "library", "name": "openssl", "version": "3.0.11-1~deb12u2",
     "purl": "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"},
    {"type": "library", "name": "Jinja2", "version": "3.1.2", "purl": "pkg:pypi/jinja2@3.1.2"},
    {"type": "library", "name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"},
    {"type": "library", "name": "left-pad", "version": "5000.0.0", "purl": "pkg:npm/left-pad@5000.0.0"},
    {"type": "library", "name": "musl", "version": "1.2.4-r1",
     "purl": "pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4"},
    {"type": "library", "name": "nopurl", "version": "1"},
]}
json.dump(cdx, open(t + "/cdx.json", "w"))
spdx = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": "t", "packages": [
    {"SPDXID": "SPDXRef-1", "name": "jinja2", "versionInfo": "3.1.2", "externalRefs": [
        {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
         "referenceLocator": "pkg:pypi/jinja2@3.1.2"}]}]}
json.dump(spdx, open(t + "/spdx.json", "w"))
open(t + "/notjson.json", "w").write("<xml/>")
PY

# --- the table ----------------------------------------------------------------
run "$BERTH" scan --sbom "$T/cdx.json" --db "$T/db"
check "scan a CycloneDX SBOM: exit 0 without --fail-on" 0 \
	'^PACKAGE +INSTALLED +FIXED IN +ADVISORY +SEVERITY' \
	'^libssl3 +3\.0\.11-1~deb12u1 +3\.0\.11-1~deb12u2 +DSA-5532-1 +CRITICAL' \
	'^jinja2 +3\.1\.2 +3\.1\.3 +GHSA-jinja +MEDIUM' \
	'^lodash +4\.17\.20 +4\.17\.21 +GHSA-lodash +HIGH' \
	'^left-pad +5000\.0\.0 +5000\.0\.1 +BIG-1 +LOW' \
	'^musl +1\.2\.4-r1 +1\.2\.4-r2 +ALPINE-musl +LOW' \
	"skipping advisory: '$T/db/broken.json' is not valid JSON" \
	'6 packages \(1 without a purl berth scans\), 7 advisories \(1 documents skipped\), 5 findings'
grep -q 'DSA-9999-1\|GHSA-old' <<<"$OUT" && fail "other releases and fixed advisories are not listed" "$OUT" ||
	ok "other releases and fixed advisories are not listed"
grep -q '^openssl ' <<<"$OUT" && fail "the fixed openssl is not listed" "$OUT" ||
	ok "the fixed openssl is not listed"

# --- --json, and the same findings from all.zip ----------------------------------
run "$BERTH" scan --sbom "$T/cdx.json" --db "$T/db" --json
check "scan --json" 0
printf '%s\n' "$OUT" >"$T/dir.json"
got=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for f in d["findings"]:
    print(f["package"], f["version"], f["fixed"], f["id"], f["severity"], f["score"], f["aliases"])
' "$T/dir.json")
same "--json lists each finding" "$got" "libssl3 3.0.11-1~deb12u1 3.0.11-1~deb12u2 DSA-5532-1 CRITICAL 9.8 CVE-DSA-5532-1
jinja2 3.1.2 3.1.3 GHSA-jinja MEDIUM None CVE-GHSA-jinja
lodash 4.17.20 4.17.21 GHSA-lodash HIGH None CVE-GHSA-lodash
left-pad 5000.0.0 5000.0.1 BIG-1 LOW None CVE-BIG-1
musl 1.2.4-r1 1.2.4-r2 ALPINE-musl LOW 2.5 CVE-ALPINE-musl"
run "$BERTH" scan --sbom "$T/cdx.json" --db "$T/zip/Debian/all.zip" --json
check "scan with an all.zip as the database" 0 "skipping advisory: '.*all.zip:broken.json'"
same "the zip gives the same findings as the directory" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["findings"])' "$T/dir.json")" \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["findings"])' "$OUT")"

# --- --fail-on ----------------------------------------------------------------
run "$BERTH" scan --sbom "$T/cdx.json" --db "$T/db" --fail-on critical
check "--fail-on CRITICAL with a CRITICAL finding: exit 99" 99 'DSA-5532-1'
run "$BERTH" scan --sbom "$T/spdx.json" --db "$T/db" --fail-on HIGH
check "an SPDX SBOM, --fail-on HIGH with only MEDIUM: exit 0" 0 '^jinja2 +3\.1\.2 +3\.1\.3 +GHSA-jinja +MEDIUM'
run "$BERTH" scan --sbom "$T/spdx.json" --db "$T/db" --fail-on MEDIUM
check "--fail-on MEDIUM with a MEDIUM finding: exit 99" 99
run "$BERTH" scan --sbom "$T/spdx.json" --db "$T/db" --fail-on urgent
check "--fail-on with an unknown word is a usage error" 2 "invalid --fail-on 'urgent'"

# --- --update from 127.0.0.1 -------------------------------------------------------
port=$(free_port)
bg python3 -m http.server "$port" --bind 127.0.0.1 --directory "$T/zip" >"$T/http.log" 2>&1
wait_http "http://127.0.0.1:$port/" || fail "http.server starts" "no answer"
run "$BERTH" scan --db "$T/db2" --update "http://127.0.0.1:$port/Debian/all.zip"
check "--update downloads ECOSYSTEM/all.zip as ECOSYSTEM.zip" 0 "Updated $T/db2/Debian.zip"
cmp -s "$T/db2/Debian.zip" "$T/zip/Debian/all.zip" && ok "the saved zip is the served one" ||
	fail "the saved zip is the served one" "differs"
run "$BERTH" scan --sbom "$T/cdx.json" --db "$T/db2" --update "http://127.0.0.1:$port/Debian/all.zip"
check "--update then scan in one run" 0 'DSA-5532-1' '5 findings'
run "$BERTH" scan --db "$T/db2" --update "http://127.0.0.1:$port/PyPI/all.zip"
check "--update of a missing zip fails" 4 "answered HTTP 404"
same "a failed --update leaves only the old file" "$(ls -A "$T/db2")" "Debian.zip"
run "$BERTH" scan --db "$T/db2" --update "http://127.0.0.1:$port/Debian/"
check "--update of a URL that names no zip is a usage error" 2 "does not end in ECOSYSTEM/all.zip"

# --- bad input -----------------------------------------------------------------------
run "$BERTH" scan --sbom "$T/cdx.json"
check "no --db: usage error" 2 "--db PATH is required"
run "$BERTH" scan --sbom "$T/cdx.json" --db "$T/nowhere"
check "a missing database: not found" 4 "cannot open advisory database '$T/nowhere'" "hint: "
run "$BERTH" scan --sbom "$T/notjson.json" --db "$T/db"
check "an SBOM that is not JSON" 2 "SBOM '$T/notjson.json' is not valid JSON"
run "$BERTH" scan --sbom "$T/db/DSA-5532-1.json" --db "$T/db"
check "JSON that is no SBOM" 2 "neither a CycloneDX nor an SPDX JSON SBOM"
mkdir -p "$T/store"
run env BERTH_ROOT="$T/store" "$BERTH" scan --db "$T/db" docker.io/library/debian:12
check "scan REF of an image not in the store" 4 "is not in store" "hint: pull it first"
run "$BERTH" scan --help
check "scan --help" 0 '--fail-on SEVERITY' '--update URL'

done_testing
