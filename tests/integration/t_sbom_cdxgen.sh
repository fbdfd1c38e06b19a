#!/usr/bin/env bash
# timeout: 1800
# berth sbom against @cyclonedx/cdxgen (tests/node, installed by
# scripts/install-node-tools.sh) on the same generated images, saved by
# berth save as docker archives for cdxgen's container scan: a Debian one
# and an Alpine one (tests/tools/sbom_image.py). The dpkg, apk, Python and
# npm packages are compared by name and version; the differences must be
# exactly the ones docs/sbom.md lists ("Compared with cdxgen"), so a change
# on either side shows here.
. tests/integration/lib.sh
. tests/integration/registry.sh

CDXGEN=$TOP/tests/node/node_modules/.bin/cdxgen
export BERTH_ROOT=$T/store
[ -x "$CDXGEN" ] || bail "no $CDXGEN: run scripts/install-node-tools.sh"

for os in debian alpine; do
	ref=localhost/sbom/$os:v1
	python3 "$TOOLS/sbom_image.py" "$T/$os.spec" "$T/$os.exp" --os "$os" ||
		bail "sbom_image.py --os $os failed"
	python3 "$TOOLS/mklayout.py" "$BERTH_ROOT" --tag "$ref" "$T/$os.spec" >/dev/null ||
		bail "mklayout.py ($os) failed"
	run "$BERTH" sbom --format cyclonedx -o "$T/$os.berth.json" "$ref"
	check "berth sbom ($os)" 0 || continue
	run "$BERTH" save -o "$T/$os.tar" "$ref"
	check "berth save ($os) for cdxgen" 0 || continue
	# cdxgen works offline here: its container scan runs the trivy it
	# ships on the extracted layers; nothing is fetched.
	(cd "$T" && CDXGEN_NO_BANNER=true FETCH_LICENSE=false \
		"$CDXGEN" -t docker --no-install-deps -o "$T/$os.cdxgen.json" "$T/$os.tar") \
		>"$T/$os.cdxgen.log" 2>&1
	RC=$?
	ERR=$(tail -n 5 "$T/$os.cdxgen.log")
	OUT=
	check "cdxgen -t docker ($os)" 0 || continue
	run python3 - "$os" "$T/$os.berth.json" "$T/$os.cdxgen.json" <<'PY'
import json, sys

os_, berth, cdxgen = sys.argv[1:]


def rows(f):
    out = set()
    for c in json.load(open(f)).get("components", []):
        purl = c.get("purl", "")
        t = purl[4:].split("/")[0] if purl.startswith("pkg:") else ""
        if t not in ("deb", "apk", "pypi", "npm"):
            continue
        name = c["name"]
        if t == "npm" and c.get("group"):  # cdxgen: the scope is the group
            name = c["group"] + "/" + name
        out.add((t, name, c.get("version", "")))
    return out


b, x = rows(berth), rows(cdxgen)
own, other = ("deb", "apk") if os_ == "debian" else ("apk", "deb")
bad = []


def expect(what, got, want):
    if got != want:
        bad.append("%s: got %s, want %s" % (what, sorted(got)[:8], sorted(want)[:8]))


# The OS's own database: every berth package in cdxgen's list; cdxgen
# adds the source packages (trivy lists them as components), the other
# database's packages, counted as the OS's, and the status.d file a later
# layer deleted (cdxgen applies no whiteouts).
bo = {r for r in b if r[0] == own}
xo = {r for r in x if r[0] == own}
expect(own + ": berth's packages cdxgen lacks", bo - xo, set())
extra = {(t, n, v) for (t, n, v) in xo - bo
         if not n.startswith("src") and (t, n, v) not in
         {(own, n2, v2) for (_, n2, v2) in b if _ == other}}
expect(own + ": cdxgen's others", extra, {(own, "tzdata", "2024a-0+deb12u1")})
expect(other + ": cdxgen lists none as " + other, {r for r in x if r[0] == other}, set())
# Python: cdxgen reads only the *.egg-info file, not dist-info/METADATA
# nor egg-info/PKG-INFO.
expect("pypi: cdxgen's", {r for r in x if r[0] == "pypi"}, {("pypi", "oldpkg", "0.1")})
# npm: cdxgen ignores whiteouts and opaque directories, and takes a
# package.json inside a package for a package.
bn = {r for r in b if r[0] == "npm"}
xn = {r for r in x if r[0] == "npm"}
expect("npm: berth's cdxgen lacks", bn - xn, set())
expect("npm: cdxgen's others", xn - bn,
       {("npm", "@babel/core", "7.23.0"), ("npm", "left-pad", "1.3.0"),
        ("npm", "lodash/fp", "x")})
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("as documented: %d %s, %d pypi, %d npm in common" %
      (len(bo & xo), own, len({r for r in b if r[0] == "pypi"} & x), len(bn & xn)))
PY
	check "berth and cdxgen agree but for the documented differences ($os)" 0 "as documented"
	echo "# $OUT"
done

done_testing
