#!/usr/bin/env bash
# The client's main paths under valgrind: no invalid access, no definite
# leak. (The unit tests run under ASan and UBSan; this covers the built
# program with libcurl's worker threads.)
. tests/integration/lib.sh
. tests/integration/serve_lib.sh
. tests/integration/registry.sh

command -v valgrind >/dev/null || { echo "not ok - fixture: valgrind is not installed"; exit 1; }
serve_start --access-log off || { echo "not ok - fixture: berth serve did not start"; exit 1; }
mkimage "$T/img" --tag t --layer 300k --layer 200k --platforms linux/amd64,linux/arm64/v8 >/dev/null ||
	bail "mkimage failed"
skopeo_push "$T/img" t "$SRV_HOST/vg/app:t" --all
tar -C "$TOP" -cf "$T/rootfs.tar" README.md

VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
S=$T/store

vg() {
	local name=$1 want=$2
	shift 2
	run "${VG[@]}" "$BERTH" --root "$S" "$@"
	if [ "$RC" = 99 ]; then
		fail "$name" "valgrind: $(grep '==' <<<"$ERR" | head -n 8)"
	else
		check "$name" "$want"
	fi
}

vg "pull (index, two layers) under valgrind" 0 pull "$SRV_HOST/vg/app:t"
vg "pull again (up to date) under valgrind" 0 pull "$SRV_HOST/vg/app:t"
vg "pull of an unknown tag under valgrind" 4 pull "$SRV_HOST/vg/app:nope"
vg "pull from a closed port under valgrind" 8 pull "127.0.0.1:$(free_port)/vg/app:t"
vg "inspect under valgrind" 0 inspect "$SRV_HOST/vg/app:t"
vg "inspect --remote under valgrind" 0 inspect --remote "$SRV_HOST/vg/app:t"
vg "tag under valgrind" 0 tag "$SRV_HOST/vg/app:t" "$SRV_HOST/vg/copy:t"
vg "push with a cross-repository mount under valgrind" 0 push "$SRV_HOST/vg/copy:t"
vg "ls under valgrind" 0 ls "$SRV_HOST/vg/app"
vg "import under valgrind" 0 import "$T/rootfs.tar" "$SRV_HOST/vg/imported:1"
vg "images under valgrind" 0 images
vg "rmi under valgrind" 0 rmi "$SRV_HOST/vg/copy:t"
vg "fsck under valgrind" 0 fsck

mkimage "$T/one" --tag a --platform linux/arm64 >/dev/null || bail "mkimage failed"
skopeo_push "$T/one" a "$SRV_HOST/vg/one:a"
vg "manifest create under valgrind" 0 manifest create "$SRV_HOST/vg/multi:t" "$SRV_HOST/vg/one:a"
vg "manifest create of an index (refused) under valgrind" 14 manifest create "$SRV_HOST/vg/bad:t" "$SRV_HOST/vg/app:t"
vg "manifest annotate under valgrind" 0 manifest annotate "$SRV_HOST/vg/multi:t" "$SRV_HOST/vg/one:a" --variant v8 --os-features x,y
vg "manifest inspect under valgrind" 0 manifest inspect -v "$SRV_HOST/vg/multi:t"
vg "manifest inspect of a remote index under valgrind" 0 manifest inspect -v "$SRV_HOST/vg/app:t"
vg "manifest push (mounts) under valgrind" 0 manifest push --purge "$SRV_HOST/vg/multi:t"
vg "manifest rm of no list under valgrind" 4 manifest rm "$SRV_HOST/vg/multi:t"

done_testing
