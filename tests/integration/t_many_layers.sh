#!/usr/bin/env bash
# An image of 1,100 layers pulls with few file descriptors (ulimit -n 256):
# berth opens staging files only for the blobs it is downloading now, and
# leaves none behind. The image is served from the layout it was made in
# (pushing 1,100 blobs would take minutes).
. tests/integration/lib.sh
. tests/integration/registry.sh

N=1100
args=()
for ((i = 0; i < N; i++)); do args+=(--layer 64); done
mkimage "$T/img" --tag v1 --files 1 --seed many "${args[@]}" >"$T/img.json" ||
	bail "mkimage failed"
hostile_start --layout "many/layers=$T/img"
S=$T/store

run bash -c 'ulimit -n 256 && exec "$@"' _ "$BERTH" --root "$S" pull -q "$HOSTILE/many/layers:v1"
check "pull of $N layers with ulimit -n 256" 0 "$HOSTILE/many/layers:v1"
same "every layer and the config and manifest are stored" "$(find "$S/blobs/sha256" -type f | wc -l)" "$((N + 2))"
same "no staging file is left" "$(find "$S/ingest" -name 'blob-*' | wc -l)" 0
run "$BERTH" --root "$S" fsck
check "fsck is clean" 0 "checked $((N + 2)) blobs: 0 problems"

done_testing
