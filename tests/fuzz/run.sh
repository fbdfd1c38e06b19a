#!/bin/sh
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each
# for a bounded time. Exits non-zero when a harness finds a crash; the
# input that caused it is left in build/fuzz/artifacts/.
#
#   tests/fuzz/run.sh                 # every harness, 30 s each
#   tests/fuzz/run.sh 300 manifest    # one harness, 5 minutes
#
# The corpus grows in build/fuzz/corpus/<name>/ (seeded from seeds/<name>/).
set -eu
cd "$(dirname "$0")/../.."

secs=${1:-30}
[ $# -gt 0 ] && shift
# Every harness by default: tests/fuzz/fuzz_<name>.c.
harnesses=${*:-$(for f in tests/fuzz/fuzz_*.c; do
	f=${f#tests/fuzz/fuzz_}
	printf '%s ' "${f%.c}"
done)}
cc=${FUZZ_CC:-clang}
out=build/fuzz

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: '$cc' not found; libFuzzer needs clang (apt-get install clang)" >&2
	exit 2
fi

# The Makefile knows the sources: the harnesses link the library and the
# server from one instrumented archive (make fuzz).
targets=""
for h in $harnesses; do
	targets="$targets $out/fuzz_$h"
done
echo "fuzz: building$targets"
# shellcheck disable=SC2086
make -s -j2 FUZZ_CC="$cc" $targets

mkdir -p "$out/artifacts"
status=0
for h in $harnesses; do
	mkdir -p "$out/corpus/$h"
	dict=""
	[ -f "tests/fuzz/$h.dict" ] && dict="-dict=tests/fuzz/$h.dict"
	echo "fuzz: running $h for ${secs}s"
	# shellcheck disable=SC2086
	if ! "$out/fuzz_$h" -max_total_time="$secs" -max_len=8192 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$h-" $dict \
		"$out/corpus/$h" "tests/fuzz/seeds/$h"; then
		echo "fuzz: $h FAILED; see $out/artifacts/" >&2
		status=1
	fi
done
exit $status
