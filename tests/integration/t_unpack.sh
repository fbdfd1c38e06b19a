#!/usr/bin/env bash
# berth unpack on the normal part of the layer corpus
# (tests/tools/layer_corpus.py: every kind of entry, whiteouts, opaque
# directories, links, modes, owners, xattrs, devices, times, sparse and large
# files), pushed by skopeo to docker-registry and pulled by berth: each image
# unpacks, with openat2 and with the O_NOFOLLOW walk, to the tree umoci
# unpacks. Then: an index of two platforms, a non-empty DIR, --force,
# --json, --rootless, a run killed between two layers and the next run, a
# full disk. (t_unpack_docker.sh compares with docker, t_unpack_hostile.sh
# runs the hostile part.)
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh
. tests/integration/unpack_lib.sh

corpus_setup normal

normal_case() {
	local name=$1 ref=$2 mode dir flags=() twin label=""
	[ "$(field "$name" mtimes)" = true ] && flags=(--mtimes --dir-mtimes)
	twin=$(field "$name" twin)
	if [ "$twin" != null ]; then
		label=" (its twin $twin's)"
	else
		twin=$name
		run skopeo_ copy -q --src-tls-verify=false "docker://$ref" "oci:$T/oci:$name"
		[ "$RC" = 0 ] || { fail "$name: skopeo copy to a layout" "$ERR"; return; }
		run umoci unpack --image "$T/oci:$name" "$T/umoci/$name"
		check "$name: umoci unpacks it" 0 || return
	fi
	for mode in $MODES; do
		dir=$CAN/in/$name-$mode
		run env BERTH_UNPACK_RESOLVE=$mode "$BERTH" unpack "$ref" "$dir"
		check "$name ($mode): berth unpack" 0 "Unpacked .* into $dir" || continue
		run "${TD[@]}" "${flags[@]}" "$T/umoci/$twin/rootfs" "$dir"
		check "$name ($mode): the tree equals umoci's$label" 0
	done
}

for name in $(corpus_cases); do
	corpus_pull "$name" || continue
	[ "$(field "$name" kind)" = normal ] && normal_case "$name" "$CASE_REF"
done

# ---- an index of two platforms ----------------------------------------------
ref=$REG/corpus/multi:v1
# berth pull records the platform's image; skopeo puts the whole index into
# the store (an OCI layout) under the same name, so unpack picks from it.
run skopeo_ copy -q --all --src-tls-verify=false "docker://$ref" "oci:$BERTH_ROOT:$ref"
check "skopeo copies the two-platform index into berth's store" 0
run "$BERTH" unpack --platform linux/arm64 "$ref" "$T/multi-arm64"
check "unpack --platform linux/arm64 from an index" 0
same "the arm64 image's file" "$(cat "$T/multi-arm64/etc/arch" 2>&1)" "linux/arm64"
run "$BERTH" unpack --platform linux/amd64 "$ref" "$T/multi-amd64"
check "unpack --platform linux/amd64 from an index" 0
same "the amd64 image's file" "$(cat "$T/multi-amd64/etc/arch" 2>&1)" "linux/amd64"
run "$BERTH" unpack --platform linux/s390x "$ref" "$T/multi-s390x"
check "a platform the index lacks" 12 "linux/amd64" "linux/arm64"
expect "no DIR for a platform the index lacks" test ! -e "$T/multi-s390x"

# ---- DIR: non-empty, --force, --json, usage ---------------------------------
ref=$REG/corpus/links:v1
mkdir -p "$T/full" && echo keep >"$T/full/keep"
run "$BERTH" unpack "$ref" "$T/full"
check "a non-empty DIR is refused" 17 "'$T/full' is not empty" "hint: use --force"
same "the refused DIR is as it was" "$(ls -A "$T/full")" "keep"
run "$BERTH" unpack --force --json "$ref" "$T/full"
check "--force --json replaces it" 0 '^\{"image":"sha256:[0-9a-f]{64}","dir":".*full","layers":1,"entries":[0-9]+,"bytes":[0-9]+\}$'
expect "the old content is gone" test ! -e "$T/full/keep"
expect "the new content is there" test -f "$T/full/usr/bin/sh"
same "nothing left beside DIR" "$(ls -A "$T" | grep -c berth-)" 0
run "$BERTH" unpack "$ref"
check "one operand is a usage error" 2 "expected an image reference and a directory"
run "$BERTH" unpack --max-unpacked-size lots "$ref" "$T/x"
check "a bad --max-unpacked-size" 2 "invalid --max-unpacked-size 'lots'"
run "$BERTH" unpack "$REG/corpus/nothing:v1" "$T/x"
check "an image not in the store" 4 "hint: pull it first"
run "$BERTH" unpack --help
check "unpack --help" 0 "--max-unpacked-size SIZE" "--rootless"

# ---- --rootless ---------------------------------------------------------------
run "$BERTH" unpack --rootless "$REG/corpus/nodes:v1" "$T/rootless"
check "--rootless skips device nodes with a warning" 0 "device node skipped"
expect "--rootless: the FIFO is made" test -p "$T/rootless/devs/fifo"
expect "--rootless: no device node" test ! -e "$T/rootless/devs/null"

# ---- a killed run, then the next ------------------------------------------------
# hardlink-earlier has two layers. A write lease (fcntl F_SETLEASE) on the
# second one's blob, its break signal ignored, makes berth's open of it wait
# (up to fs.lease-break-time, 45 s): berth is then, for certain, between the
# two layers when it is killed.
ref=$REG/corpus/hardlink-earlier:v1
blob=$BERTH_ROOT/blobs/sha256/$(jget "json.load(open('$T/corpus/hardlink-earlier/blobs/sha256/' + j['manifests'][0]['digest'][7:]))['layers'][1]['digest'][7:]" "$T/corpus/hardlink-earlier/index.json")
bg python3 -c 'import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, 1024, 1)  # F_SETLEASE, F_WRLCK
print("leased", flush=True)
time.sleep(600)' "$blob" >"$T/lease.out"
lease_pid=$BG_PID
expect "a lease on the second layer's blob" wait_for 120 grep -q leased "$T/lease.out"
bg "$BERTH" unpack "$ref" "$T/killed"
pid=$BG_PID
staged() { compgen -G "$T/.killed.berth-stage-*/lib/base" >/dev/null; }
expect "the first layer is unpacked in the staging directory" wait_for 120 staged
kill -9 "$pid"
wait "$pid" 2>/dev/null
kill "$lease_pid"
wait "$lease_pid" 2>/dev/null
expect "a killed run leaves DIR absent" test ! -e "$T/killed"
expect "... and its staging directory behind" staged
run "$BERTH" unpack "$ref" "$T/killed"
check "the next run succeeds" 0
same "... and removes the dead run's staging and lock" "$(ls -A "$T" | grep -c '^\.killed\.berth')" 0
same "... with both layers" "$(stat -c %h "$T/killed/lib/base")" 3

# ---- a full disk ----------------------------------------------------------------
# A 24 MiB ext4 file system on a loop device (unmounted on exit by
# docker_lib.sh's cleanup, which unmounts everything under $T).
mkdir -p "$T/small"
truncate -s 24M "$T/small.img"
if mkfs.ext4 -q -F -m 0 "$T/small.img" && mount -o loop "$T/small.img" "$T/small"; then
	mkdir "$T/small/keep"
	echo kept >"$T/small/keep/file"
	run "$BERTH" unpack "$REG/corpus/large-file:v1" "$T/small/rootfs"
	check "a full disk stops the unpack" 13 \
		"^berth: layer 1 \(sha256:[0-9a-f]{12}\): entry 'big/file': writing: no space left on the file system$" \
		"^hint: free space on the destination's file system, or unpack elsewhere$"
	expect "a full disk leaves no DIR" test ! -e "$T/small/rootfs"
	same "... and nothing beside it but what was there" "$(ls -A "$T/small")" "keep
lost+found"
	same "... whose content is as it was" "$(cat "$T/small/keep/file")" kept
	run "$BERTH" unpack --force "$REG/corpus/large-file:v1" "$T/small/keep"
	check "a full disk with --force" 13 "no space left"
	same "... leaves the forced DIR as it was" "$(ls -A "$T/small/keep")" file
else
	fail "a 24 MiB ext4 image mounts" "needs root, mkfs.ext4 (scripts/install-deps.sh) and a free loop device"
fi

done_testing
