#!/usr/bin/env bash
# The layer decoder's throughput against isa-l's own igzip and zlib's gzip,
# on one gzip file (not a timed test: it prints, it does not judge).
#
#   bench/decode.sh FILE.gz      e.g. the layers of bench/pull.sh's big
#                                image concatenated: a ~400 MB multi-member
#                                gzip of 1 GiB
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: bench/decode.sh FILE.gz" >&2; exit 2; }
command -v igzip >/dev/null || { echo "bench/decode.sh: igzip is missing: run scripts/install-deps.sh" >&2; exit 1; }
make -s build/bench/layer_decode
t() { /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KiB peak RSS" "$@"; }
echo "berth decoder (inflate + SHA-256 of input and output):"
t build/bench/layer_decode "$1"
echo "igzip -d -c (inflate only):"
t igzip -d -c "$1" >/dev/null
echo "gzip -dc (zlib, inflate only):"
t gzip -dc "$1" >/dev/null
