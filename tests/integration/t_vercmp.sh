#!/usr/bin/env bash
# berth's version order against each ecosystem's own implementation, on
# real version strings, in bulk: `berth _vercmp ECO` answers every pair at
# once, and must agree with the oracle on each one (zero disagreements).
#   Debian: dpkg --compare-versions, on the versions of
#           `apt-cache dumpavail` (see below how);
#   PyPI:   Debian's python3-packaging (packaging.version.Version), on the
#           versions of the Python packages installed here and generated
#           PEP 440 edge cases (also invalid ones: both must refuse);
#   npm:    npm's semver package (tests/node, scripts/install-node-tools.sh),
#           on the versions of the npm packages installed here and
#           generated semver edge cases.
. tests/integration/lib.sh

# compare NAME PAIRS ORACLE_OUT: berth's answers vs the oracle's, line by
# line; an "error: ..." of berth's counts as the oracle's "error".
compare() {
	local name=$1 pairs=$2 want=$3 eco=$4 n bad
	"$BERTH" _vercmp "$eco" <"$pairs" | sed 's/^error:.*/error/' >"$T/got.$name"
	n=$(wc -l <"$pairs")
	if [ "$(wc -l <"$T/got.$name")" != "$n" ] || [ "$(wc -l <"$want")" != "$n" ]; then
		fail "$name: one answer per pair" "pairs $n, berth $(wc -l <"$T/got.$name"), oracle $(wc -l <"$want")"
		return
	fi
	bad=$(paste "$pairs" "$T/got.$name" "$want" | awk -F'\t' '$3 != $4' | head -5)
	if [ -n "$bad" ]; then
		fail "$name: berth agrees with the oracle on all $n pairs" \
			"$(paste "$pairs" "$T/got.$name" "$want" | awk -F'\t' '$3 != $4' | wc -l) disagree, e.g. $(tr '\t\n' ' |' <<<"$bad")"
	else
		ok "$name: berth agrees with the oracle on all $n pairs"
	fi
}

# pairs FILE_OF_VERSIONS N SEED: N random pairs plus each version with its
# neighbour in sorted order (close versions are the interesting ones).
pairs() {
	python3 - "$@" <<'PY'
import random, sys
vs = sorted(set(l.rstrip("\n") for l in open(sys.argv[1])
                if l.strip() and "\t" not in l.rstrip("\n")))
rnd = random.Random(int(sys.argv[3]))
out = []
for a, b in zip(vs, vs[1:]):
    out.append((a, b) if rnd.random() < 0.5 else (b, a))
for _ in range(int(sys.argv[2])):
    a, b = rnd.choice(vs), rnd.choice(vs)
    out.append((a, b))
for v in rnd.sample(vs, min(len(vs), 200)):
    out.append((v, v))
for a, b in out:
    print(a + "\t" + b)
PY
}

# --- Debian: dpkg -------------------------------------------------------------
# One dpkg process answers one pair, and starting thousands of processes
# takes minutes on a busy machine, so dpkg is asked about a chain: berth
# sorts a sample of the real versions, and dpkg checks every neighbour
# pair of that order (< or =). dpkg's order being transitive, the checked
# chain is dpkg's answer for every pair of the sample; berth's own answers
# for 12,000 such pairs must equal it. 300 random pairs are also put to
# dpkg directly.
dpkg_cmp() {
	while IFS=$'\t' read -r a b; do
		if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then
			echo "<"
		elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then
			echo "="
		else
			echo ">"
		fi
	done
}
apt-cache dumpavail | sed -n 's/^Version: //p' | sort -u >"$T/deb.all"
nv=$(wc -l <"$T/deb.all")
if [ "$nv" -lt 2000 ]; then
	fail "apt-cache dumpavail lists versions" "only $nv (run apt-get update)"
else
	python3 -c 'import random, sys
v = open(sys.argv[1]).read().split("\n")[:-1]
print("\n".join(random.Random(1).sample(v, 1500)))' "$T/deb.all" >"$T/deb.sample"
	run "$BERTH" _vercmp Debian --sort <"$T/deb.sample"
	check "berth sorts 1500 real Debian versions" 0
	printf '%s\n' "$OUT" >"$T/deb.sorted"
	paste "$T/deb.sorted" <(tail -n +2 "$T/deb.sorted") | head -n -1 >"$T/deb.chain"
	dpkg_cmp <"$T/deb.chain" >"$T/deb.chain.want"
	bad=$(paste "$T/deb.chain" "$T/deb.chain.want" | awk -F'\t' '$3 == ">"' | head -3)
	same "dpkg agrees with berth's order of all $(wc -l <"$T/deb.chain") neighbours" "$bad" ""
	# dpkg's answer for any pair of the sample, from the checked chain:
	# the rank of each version, equal ones sharing a rank
	python3 - "$T/deb.sorted" "$T/deb.chain.want" "$T/deb.pairs" "$T/deb.want" <<'PY'
import random, sys
vs = open(sys.argv[1]).read().split("\n")[:-1]
ans = open(sys.argv[2]).read().split("\n")[:-1]
rank, r = {vs[0]: 0}, 0
for v, a in zip(vs[1:], ans):
    r += a != "="
    rank[v] = r
rnd = random.Random(5)
with open(sys.argv[3], "w") as p, open(sys.argv[4], "w") as w:
    for _ in range(12000):
        a, b = rnd.choice(vs), rnd.choice(vs)
        p.write(a + "\t" + b + "\n")
        w.write("<\n" if rank[a] < rank[b] else ">\n" if rank[a] > rank[b] else "=\n")
PY
	compare debian "$T/deb.pairs" "$T/deb.want" Debian
	pairs "$T/deb.all" 300 9 | shuf -n 300 --random-source=<(yes) >"$T/deb.direct"
	dpkg_cmp <"$T/deb.direct" >"$T/deb.direct.want"
	compare debian-direct "$T/deb.direct" "$T/deb.direct.want" Debian
fi

# --- PyPI: packaging ----------------------------------------------------------
PY3=/usr/bin/python3
if ! $PY3 -c 'import packaging.version' 2>/dev/null; then
	fail "python3-packaging is installed" "apt-get install python3-packaging"
else
	{
		find /usr/lib/python3* /usr/local/lib/python3* -name METADATA \
			-path '*.dist-info/*' 2>/dev/null |
			head -5000 | xargs -r -d '\n' sed -n 's/^Version: //p' 2>/dev/null
		$PY3 - <<'PY'
import itertools, random
rnd = random.Random(7)
rel = ["0", "1", "1.0", "1.0.0", "01.2", "1.2", "1.10", "2!1.0", "0!1", "v1.0", "V2.1"]
pre = ["", "a", "a1", "A2", "alpha", "alpha3", "b", ".b2", "-beta1", "_c1", "rc", "rc2",
       "pre1", "preview.4", "RC1", "a-1", "a.1", "b_0"]
post = ["", ".post", ".post1", "post2", "-1", "-post3", "_rev4", "r5", ".r", "-r1", ".POST7"]
dev = ["", ".dev", ".dev0", "dev3", "-dev4", "_DEV1"]
local = ["", "+abc", "+abc.5", "+5", "+abc.10", "+1.2.3", "+ubuntu-1", "+a_b", "+007"]
bad = ["", "foo", "1.", "1..2", "1.0+", "1.0+a..b", "1.0-", "1.0a.b", "!1", "1!", "1.0_", "a1",
       "1.0.post.dev.x", "1.0 1", "1.0+-a", "1.0.devx", "1!2!3", " 1.0 ", "\t2.0", "1.0-r1-1",
       "1.0a1b2", "1.0c", "1.0ab", "99999999999999999999999.1", "1.0.0000000000000000000001"]
out = set(bad)
for _ in range(1500):
    out.add(rnd.choice(rel) + rnd.choice(pre) + rnd.choice(post) + rnd.choice(dev) + rnd.choice(local))
print("\n".join(sorted(out)))
PY
	} >"$T/py.versions"
	pairs "$T/py.versions" 8000 2 >"$T/py.pairs"
	$PY3 - "$T/py.pairs" >"$T/py.want" <<'PY'
import sys
from packaging.version import Version, InvalidVersion
for line in open(sys.argv[1]):
    a, b = line.rstrip("\n").split("\t")
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        print("error"); continue
    print("<" if va < vb else ">" if va > vb else "=")
PY
	same "packaging answered every PyPI pair" "$(wc -l <"$T/py.want")" "$(wc -l <"$T/py.pairs")"
	compare pypi "$T/py.pairs" "$T/py.want" PyPI
fi

# --- npm: semver --------------------------------------------------------------
if ! scripts/install-node-tools.sh >"$T/node.log" 2>&1; then
	fail "scripts/install-node-tools.sh installs semver" "$(tail -3 "$T/node.log")"
else
	{
		find /usr/lib/node_modules /usr/share/nodejs /usr/local/lib/node_modules \
			-name package.json -path '*/node_modules/*' 2>/dev/null | head -3000 |
			xargs -r -d '\n' node -e '
for (const f of process.argv.slice(1)) {
  try { const v = require(f).version; if (typeof v === "string" && !/[\t\n]/.test(v)) console.log(v) } catch (e) {}
}' 2>/dev/null
		python3 - <<'PY'
import random
rnd = random.Random(3)
main = ["0.0.0", "0.0.1", "1.0.0", "1.2.3", "10.20.30", "1.0.10", "v1.0.0", "9007199254740991.0.0"]
pre = ["", "-0", "-1", "-alpha", "-alpha.1", "-alpha.beta", "-beta", "-beta.2", "-beta.11", "-rc.1",
       "-0.3.7", "-x.7.z.92", "-x-y-z.--", "-alpha.0a", "-1a", "-a1", "-9007199254740993",
       "-9007199254740992", "-99999999999999999999", "-alpha.10", "-alpha.9", "-A", "-a", "--"]
build = ["", "+001", "+build.1", "+exp.sha.5114f85", "+21AF26D3----117B344092BD"]
bad = ["1", "1.0", "01.0.0", "1.01.0", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0-a..b", "1.0.0+a..b",
       "a.b.c", "1.0.0.0", "=1.0.0", "v 1.0.0", "9007199254740992.0.0", "1.0.0-alpha_beta", "",
       " 1.2.3 ", "\t1.2.3", "1.2.3-\u00e9", "V1.2.3", "1.2.3 -a"]
out = set(bad)
for _ in range(1500):
    out.add(rnd.choice(main) + rnd.choice(pre) + rnd.choice(build))
print("\n".join(sorted(out)))
PY
	} >"$T/npm.versions"
	pairs "$T/npm.versions" 8000 4 >"$T/npm.pairs"
	node -e '
const semver = require(process.argv[1]);
const lines = require("fs").readFileSync(process.argv[2], "utf8").split("\n");
const out = [];
for (const l of lines) {
  if (l === "") continue;
  const [a, b] = l.split("\t");
  try { const c = semver.compare(a, b); out.push(c < 0 ? "<" : c > 0 ? ">" : "="); }
  catch (e) { out.push("error"); }
}
process.stdout.write(out.join("\n") + "\n");' "$TOP/tests/node/node_modules/semver" "$T/npm.pairs" >"$T/npm.want"
	compare npm "$T/npm.pairs" "$T/npm.want" npm
fi

done_testing
