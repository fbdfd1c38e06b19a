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
harnesses=${*:-ref manifest auth token}
cc=${FUZZ_CC:-clang}
out=build/fuzz

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: '$cc' not found; libFuzzer needs clang (apt-get install clang)" >&2
	exit 2
fi

flags="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude -Isrc/lib -Isrc"
lib="src/server/access/jwt.c src/server/access/jwt_keys.c src/lib/registry/auth_parse.c src/lib/oci/digest.c src/lib/oci/ref.c src/lib/oci/names.c src/lib/oci/platform.c src/lib/oci/manifest.c src/lib/util/buf.c src/lib/util/error.c src/lib/util/fileio.c src/lib/util/log.c src/lib/util/str.c src/lib/util/xalloc.c"
# shellcheck disable=SC2046
libs=$(pkg-config --libs jansson libcrypto)

mkdir -p "$out/artifacts"
status=0
for h in $harnesses; do
	echo "fuzz: building $h"
	# shellcheck disable=SC2086
	"$cc" $flags -o "$out/fuzz_$h" "tests/fuzz/fuzz_$h.c" $lib $libs
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
