#!/usr/bin/env bash
# berth sbom on images generated here (tests/tools/sbom_image.py through
# mklayout.py, the store being the OCI layout they write): a dpkg status
# of 200 packages, distroless status.d, an apk database, Python and npm
# packages, whiteouts and replacements in a later layer, and a Go binary
# built here. Checked: the package list against the generator's, purls,
# SPDX 2.3 shape, CycloneDX 1.5 against @cyclonedx/cyclonedx-library's
# validator, the same bytes twice, the bounds (a 100 MB dpkg status),
# errors; and the list against @cyclonedx/cdxgen's on the same image.
. tests/integration/lib.sh
. tests/integration/registry.sh

TOOLS=$TOP/tests/tools
NODE=$TOP/tests/node
export BERTH_ROOT=$T/store
REF=localhost/sbom/app:v1

# --- a Go binary with a dependency, when Go is here ---------------------
go_args=()
if command -v go >/dev/null 2>&1; then
	mkdir -p "$T/go/dep"
	printf 'module example.com/dep\n\ngo 1.19\n' >"$T/go/dep/go.mod"
	printf 'package dep\n\nfunc Hello() string { return "hello" }\n' >"$T/go/dep/dep.go"
	printf 'module example.com/hello\n\ngo 1.19\n\nrequire example.com/dep v1.2.3\n\nreplace example.com/dep => ./dep\n' >"$T/go/go.mod"
	printf 'package main\n\nimport (\n\t"example.com/dep"\n\t"fmt"\n)\n\nfunc main() { fmt.Println(dep.Hello()) }\n' >"$T/go/main.go"
	if (cd "$T/go" && GOCACHE=$T/go/.cache GOPATH=$T/go/path GOPROXY=off \
		GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o hello .) 2>"$T/go.err"; then
		go_args=(--go "$T/go/hello")
		gover=$(go env GOVERSION)
	else
		fail "go build of the test binary" "$(head -c 300 "$T/go.err")"
	fi
else
	echo "# SKIP Go binaries: 'go' is not installed (scripts/install-deps.sh installs golang-go); not counted as passed"
fi

python3 "$TOOLS/sbom_image.py" "$T/spec.json" "$T/expected.json" "${go_args[@]}" ||
	bail "sbom_image.py failed"
python3 "$TOOLS/mklayout.py" "$BERTH_ROOT" --tag "$REF" "$T/spec.json" >"$T/img.json" ||
	bail "mklayout.py failed"

# --- SPDX, the default ----------------------------------------------------
run "$BERTH" sbom "$REF"
check "berth sbom (SPDX by default)" 0 '"spdxVersion": "SPDX-2.3"'
printf '%s\n' "$OUT" >"$T/a.spdx.json"

# kind<TAB>name<TAB>version of every library package, from either format
pkglist() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = []
if "spdxVersion" in d:
    for p in d["packages"]:
        if p["SPDXID"] in ("SPDXRef-Image", "SPDXRef-OperatingSystem"):
            continue
        purl = p["externalRefs"][0]["referenceLocator"]
        rows.append((purl.split("/")[0][4:], p["name"], p.get("versionInfo", "")))
else:
    for c in d["components"]:
        if c["type"] == "library":
            rows.append((c["purl"].split("/")[0][4:], c["name"], c.get("version", "")))
for r in sorted(rows):
    print("\t".join(r))
PY
}
want=$(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print("\t".join((r["type"].replace("go", "golang"), r["name"], r["version"])))' "$T/expected.json")
got=$(pkglist "$T/a.spdx.json" | grep -v '^golang')
same "SPDX: the packages left after whiteouts and replacements" "$got" "$want"
same "235 packages: 201 dpkg, 20 apk, 7 Python, 7 npm" "$(wc -l <<<"$got")" 235

run python3 - "$T/a.spdx.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dataLicense"] == "CC0-1.0" and d["SPDXID"] == "SPDXRef-DOCUMENT"
assert d["creationInfo"]["created"] == "2024-01-01T00:00:00Z", d["creationInfo"]
ids = [p["SPDXID"] for p in d["packages"]]
assert len(ids) == len(set(ids)), "SPDXIDs unique"
rel = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in d["relationships"]}
assert ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image") in rel
for p in d["packages"][2:]:
    assert ("SPDXRef-Image", "CONTAINS", p["SPDXID"]) in rel, p["SPDXID"]
    for k in ("downloadLocation", "licenseConcluded", "licenseDeclared", "copyrightText"):
        assert p[k], k
os_ = [p for p in d["packages"] if p["SPDXID"] == "SPDXRef-OperatingSystem"][0]
assert (os_["name"], os_["versionInfo"]) == ("debian", "12"), os_
print("spdx ok")
PY
check "SPDX: document, relationships and the OS (etc/os-release a link to usr/lib)" 0 "spdx ok"

# --- CycloneDX ------------------------------------------------------------
run "$BERTH" sbom --format cyclonedx -o "$T/a.cdx.json" "$REF"
check "berth sbom --format cyclonedx -o FILE" 0
same "-o FILE: nothing on standard output" "$OUT" ""
same "CycloneDX: the same packages" "$(pkglist "$T/a.cdx.json" | grep -v '^golang')" "$want"
run node "$NODE/validate-cyclonedx.js" "$T/a.cdx.json"
check "CycloneDX validates with @cyclonedx/cyclonedx-library (1.5, strict)" 0 '^valid$'
# the validator itself refuses a broken document
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["components"][1]["type"] = "bogus"
json.dump(d, open(sys.argv[2], "w"))' "$T/a.cdx.json" "$T/bad.cdx.json"
run node "$NODE/validate-cyclonedx.js" "$T/bad.cdx.json"
check "... and refuses a component of an unknown type" 1 'enum'

run python3 - "$T/a.cdx.json" "$T/img.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
img = json.load(open(sys.argv[2]))["images"][0]
layers = [l["digest"] for l in img["layers"]]
by = {}
for c in d["components"]:
    if c["type"] == "library":
        props = {p["name"]: p["value"] for p in c["properties"]}
        by.setdefault(c["name"], []).append((c, props))
def one(name):
    assert len(by[name]) == 1, name
    return by[name][0]
c, p = one("pkg017")
assert c["purl"] == "pkg:deb/debian/pkg017@1:1.7.3-3%2Bdeb12u1?arch=amd64&distro=debian-12", c["purl"]
assert c["version"] == "1:1.7.3-3+deb12u1"
assert p["berth:source"] == "src017" and "berth:source_version" not in p, p
assert p["berth:layer"] == layers[0] and p["berth:path"] == "var/lib/dpkg/status"
c, p = one("pkg004")
assert (p["berth:source"], p["berth:source_version"]) == ("src004", "9.9-1"), p
c, p = one("base-files")
assert p["berth:path"] == "var/lib/dpkg/status.d/base-files", p
c, p = one("apk03")
assert c["purl"] == "pkg:apk/debian/apk03@1.3.0-r3?arch=x86_64&distro=12", c["purl"]
assert c["licenses"] == [{"license": {"name": "MIT"}}]
c, p = one("charset_normalizer")
assert c["purl"] == "pkg:pypi/charset-normalizer@3.0.1", c["purl"]
c, p = one("lodash")
assert c["version"] == "4.17.22" and p["berth:layer"] == layers[1], (c, p)
c, p = one("@types/node")
assert c["purl"] == "pkg:npm/%40types/node@20.8.0", c["purl"]
assert len(by["debug"]) == 2
refs = [c["bom-ref"] for c in d["components"]]
assert len(refs) == len(set(refs)), "bom-refs unique"
assert d["metadata"]["component"]["version"] == img["digest"]
print("cdx ok")
PY
check "CycloneDX: purls, licences, source packages, layers and paths" 0 "cdx ok"

# --- Go -------------------------------------------------------------------
if [ ${#go_args[@]} -gt 0 ]; then
	same "Go: the toolchain, the main module and the dependency" \
		"$(pkglist "$T/a.cdx.json" | grep '^golang')" \
		"$(printf 'golang\texample.com/dep\tv1.2.3\ngolang\texample.com/hello\t\ngolang\tstdlib\t%s' "${gover#go}")"
	expect "Go: purls" grep -q '"purl": "pkg:golang/example.com/dep@v1.2.3"' "$T/a.cdx.json"
fi

# --- stable output --------------------------------------------------------
run "$BERTH" sbom --format cyclonedx "$REF"
same "the same image gives the same bytes" "$OUT" "$(cat "$T/a.cdx.json")"
run "$BERTH" sbom --format spdx-json -o - "$REF"
same "-o - is standard output" "$OUT" "$(cat "$T/a.spdx.json")"

# --- berth scan REF: the image's packages, as its SBOM lists them ----------
# One advisory for the first Debian package, fixed in a later version.
python3 - "$T/a.cdx.json" "$T/osv" <<'PY'
import json, os, sys
doc, out = sys.argv[1:]
c = next(c for c in json.load(open(doc))["components"]
         if c.get("purl", "").startswith("pkg:deb/"))
distro = c["purl"].split("distro=")[1].split("&")[0]  # e.g. debian-12
eco = "Debian:" + distro.split("-", 1)[1]
os.makedirs(out, exist_ok=True)
json.dump({"id": "DSA-9999-1", "modified": "2026-01-01T00:00:00Z",
           "affected": [{"package": {"ecosystem": eco, "name": c["name"]},
                         "ranges": [{"type": "ECOSYSTEM", "events": [
                             {"introduced": "0"},
                             {"fixed": c["version"] + "+fix1"}]}]}]},
          open(out + "/DSA-9999-1.json", "w"))
PY
run "$BERTH" scan --json --db "$T/osv" "$REF"
same "berth scan REF answers 0" "$RC" 0
printf '%s' "$OUT" >"$T/scan-ref.json"
run "$BERTH" scan --json --db "$T/osv" --sbom "$T/a.cdx.json"
same "berth scan REF finds what scanning its SBOM finds" \
	"$(jq -c '[.findings[] | {id, package, version, fixed}]' "$T/scan-ref.json")" \
	"$(jq -c '[.findings[] | {id, package, version, fixed}]' <<<"$OUT")"
same "... the one advisory of the image's first Debian package" \
	"$(jq -r '[.findings[].id] | join(" ")' "$T/scan-ref.json")" "DSA-9999-1"
run "$BERTH" scan --db "$T/osv" localhost/sbom/nothere:v1
check "berth scan of an image not in the store" 4 "is not in store"
run "$BERTH" scan --db "$T/osv" --sbom "$T/a.cdx.json" "$REF"
check "berth scan REF and --sbom together" 2 "expected one image reference or --sbom FILE"

# --- bounds and errors ----------------------------------------------------
python3 "$TOOLS/sbom_image.py" "$T/big.json" "$T/big-exp.json" --status-bytes $((100 << 20)) ||
	bail "sbom_image.py --status-bytes failed"
python3 "$TOOLS/mklayout.py" "$BERTH_ROOT" --tag localhost/sbom/big:v1 "$T/big.json" >/dev/null ||
	bail "mklayout.py (big) failed"
run "$BERTH" sbom localhost/sbom/big:v1
check "a 100 MB dpkg status: one clear error (BERTH_ETOOBIG, exit 18)" 18 \
	"^berth: image 'localhost/sbom/big:v1': layer 1 \(sha256:[0-9a-f]{12}\): 'var/lib/dpkg/status' is [0-9]+ bytes, more than berth reads of a package database \([0-9]+\)$" \
	'^hint: '
same "... and nothing on standard output" "$OUT" ""

run "$BERTH" sbom localhost/sbom/nothere:v1
check "an image not in the store" 4 "is not in store" "hint: pull it first: berth pull localhost/sbom/nothere:v1"
run "$BERTH" sbom --format xml "$REF"
check "an unknown format" 2 "unknown SBOM format 'xml'" "hint: use --format spdx or --format cyclonedx"
run "$BERTH" sbom
check "no reference" 2 "expected one image reference"
run "$BERTH" sbom -o "$T/no/such/dir/x.json" "$REF"
check "-o into a missing directory" 13 "cannot create" "hint: check that the directory"
run "$BERTH" sbom --help
check "berth sbom --help" 0 "Usage: berth sbom" "--format FORMAT" "-o, --output FILE"

done_testing
