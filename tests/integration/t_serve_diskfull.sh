#!/usr/bin/env bash
# berth serve on a full disk and on read-only storage, for real: a small
# ext4 file system on a loop device. A full disk answers pushes 507 with the
# cause (and berth's client says the registry's disk is full), frees the
# failed upload's bytes at once, and still starts and serves pulls; read-only
# storage starts with a warning and serves pulls, pushes get 507.
# Needs root, mkfs.ext4 (e2fsprogs) and a free loop device: without them
# the test fails, it does not skip.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

MNT=$T/mnt
mounted=""
unmount() {
	[ -n "$mounted" ] || return 0
	kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	umount "$MNT" || umount -l "$MNT"
	mounted=""
}
trap 'unmount; _cleanup' EXIT

if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null || ! losetup -f >/dev/null; then
	fail "a loop-mounted file system is available" \
		"needs root, mkfs.ext4 (scripts/install-deps.sh) and a free loop device (losetup -f)"
	exit 1
fi
mkdir -p "$MNT"
truncate -s 20M "$T/fs.img"
# -m 0: no blocks reserved for root, so the server (root here) sees it full.
if ! mkfs.ext4 -q -F -m 0 "$T/fs.img" || ! mount -o loop "$T/fs.img" "$MNT"; then
	fail "a 20 MiB ext4 image mounts" "mkfs.ext4 or mount -o loop failed"
	exit 1
fi
mounted=1
ok "a 20 MiB ext4 file system is mounted on a loop device"

# fill: takes every free block, in ever smaller writes.
fill() {
	local bs
	for bs in 1M 64k 4k 1k; do
		dd if=/dev/zero of="$MNT/filler.$bs" bs=$bs 2>/dev/null
	done
	sync
}
avail() { df --output=avail -B1 "$MNT" | tail -n1 | tr -d ' '; }

SRV_STORAGE=$MNT/reg
serve_start || { fail "serve starts on the loop file system" "see $T/serve.log"; exit 1; }
R=$SRV_URL
M=$(make_layout "$T/img" v1 7 2000 3000)
MF=$T/img/blobs/sha256/${M#sha256:}
expect "an image is pushed while there is space" test "$(push_layout full/app v1 "$T/img" "$M")" = 201
LAYER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$MF")
LAYER_FILE=$T/img/blobs/sha256/${LAYER#sha256:}

# A session with a first chunk, opened before the disk fills.
head -c 200000 /dev/urandom >"$T/part1"
head -c 2000000 /dev/urandom >"$T/part2"
http_status POST "$R/v2/full/app/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
SID=$(last_header Blob-Upload-Session-ID)
expect "a first chunk is stored" test "$(http_status PATCH "$R$LOC" -H 'Content-Range: 0-199999' \
	--data-binary "@$T/part1")" = 202

fill
expect "the file system is full" test "$(avail)" -lt 4096

# ---- pushes on a full disk ----
got=$(http_status PATCH "$R$LOC" -H 'Content-Range: 200000-2199999' --data-binary "@$T/part2")
expect "a chunk that does not fit is 507 ($got)" test "$got" = 507
expect "the 507 names the cause" grep -q "storage is full" "$T/.body"
expect "the 507 has an OCI error body" grep -q '"errors":\[{"code":' "$T/.body"
expect "the failed session's bytes are freed at once" test ! -e "$SRV_STORAGE/uploads/$SID"
expect "the failed session is over" test "$(http_status GET "$R$LOC")" = 404
head -c 3000000 /dev/urandom >"$T/big"
got=$(http_status POST "$R/v2/full/app/blobs/uploads/?digest=$(sha256_of "$T/big")" --data-binary "@$T/big")
expect "a monolithic push that does not fit is 507 ($got)" test "$got" = 507
expect "no upload file is left behind" test -z "$(ls "$SRV_STORAGE/uploads")"

# berth's own client shows the server's message and a hint that fits.
mkdir -p "$T/rootfs/etc"
head -c 3000000 /dev/urandom >"$T/rootfs/etc/data"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
export BERTH_ROOT=$T/store
run "$BERTH" import "$T/rootfs.tar" "$SRV_HOST/full/pushed:v1"
check "an image to push is imported" 0
run "$BERTH" push "$SRV_HOST/full/pushed:v1"
expect "berth push fails on the full registry (status $RC)" test "$RC" -ne 0
expect "berth push shows the 507" grep -q "507 Insufficient Storage" <<<"$ERR"
expect "berth push shows the server's message" grep -q "storage is full" <<<"$ERR"
expect "berth push's hint says the registry's disk is full" grep -q "hint: the registry's disk is full" <<<"$ERR"
expect "berth push's hint does not say to try again later" test -z "$(grep -i "try again later" <<<"$ERR")"

# ---- pulls on a full disk, before and after a restart ----
http_status GET "$R/v2/full/app/blobs/$LAYER" >/dev/null
expect "a blob is pulled from the full registry" cmp -s "$T/.body" "$LAYER_FILE"
serve_stop
expect "the server stops cleanly on a full disk" test "$SRV_RC" = 0
fill # what stopping gave back (the journal's checkpoint)
: >"$T/serve.log"
serve_start || fail "the server starts on a full disk" "$(tail -n 3 "$T/serve.log")"
R=$SRV_URL
expect "the disk is still full" test "$(avail)" -lt 4096
expect "the manifest is pulled after the restart" \
	test "$(http_status GET "$R/v2/full/app/manifests/v1")" = 200
expect "... byte for byte" cmp -s "$T/.body" "$MF"
http_status GET "$R/v2/full/app/blobs/$LAYER" >/dev/null
expect "a blob is pulled after the restart" cmp -s "$T/.body" "$LAYER_FILE"
got=$(http_status POST "$R/v2/full/app/blobs/uploads/?digest=$(sha256_of "$T/big")" --data-binary "@$T/big")
expect "a push after the restart is 507 ($got)" test "$got" = 507

# Space freed: pushes work again without a restart.
rm -f "$MNT"/filler.*
sync
got=$(http_status POST "$R/v2/full/app/blobs/uploads/?digest=$(sha256_of "$T/big")" --data-binary "@$T/big")
expect "once space is freed a push succeeds ($got)" test "$got" = 201
serve_stop

# ---- read-only storage: starts with a warning, serves pulls ----
mount -o remount,ro "$MNT"
expect "the file system is read-only now" sh -c "! touch '$MNT/reg/x' 2>/dev/null"
: >"$T/serve.log"
serve_start || fail "the server starts on read-only storage" "$(tail -n 3 "$T/serve.log")"
R=$SRV_URL
expect "the start warns that the storage is served read-only" \
	grep -q "warn.*$MNT/reg/metadata.db.*serving it read-only" "$T/serve.log"
expect "the manifest is pulled from read-only storage" \
	test "$(http_status GET "$R/v2/full/app/manifests/v1")" = 200
http_status GET "$R/v2/full/app/blobs/$LAYER" >/dev/null
expect "a blob is pulled from read-only storage" cmp -s "$T/.body" "$LAYER_FILE"
got=$(http_status POST "$R/v2/full/app/blobs/uploads/?digest=$(sha256_of "$T/part1")" --data-binary "@$T/part1")
expect "a push to read-only storage is 507 ($got)" test "$got" = 507
expect "the 507 says the storage is read-only" grep -q "storage is read-only" "$T/.body"
got=$(http_status PUT "$R/v2/full/app/manifests/v2" \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$MF")
expect "a manifest push to read-only storage is 507 ($got)" test "$got" = 507
serve_stop
expect "the read-only server stops cleanly" test "$SRV_RC" = 0
unmount
expect "the file system unmounts" test -z "$mounted"

done_testing
