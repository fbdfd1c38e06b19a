#!/usr/bin/env bash
# berth unpack against docker 20.10 (overlay2, everything under the test's
# temp dir): each image of the layer corpus's normal part that docker loads
# (none with a hard link to a file of an earlier layer, nor a zstd layer or
# GNU tar's old sparse entries) unpacks to the tree `docker create` +
# `docker export` gives, up to what docker export adds and the implied
# parent directories where docker's overlay2 result is known to differ.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh
. tests/integration/unpack_lib.sh

corpus_setup normal
docker_start "$REG"

docker_case() {
	local name=$1 ref=$2 ign=() p cid
	run "$BERTH" unpack "$ref" "$CAN/in/$name"
	check "$name: berth unpack" 0 || return
	run docker pull -q "$ref"
	check "$name: docker pull" 0 || return
	run docker create "$ref" /bin/sh
	check "$name: docker create" 0 || return
	cid=$OUT
	mkdir -p "$T/docker/$name"
	run docker export -o "$T/docker/$name.tar" "$cid"
	check "$name: docker export" 0 || return
	run tar -xpf "$T/docker/$name.tar" --numeric-owner --xattrs \
		--xattrs-include='*' -C "$T/docker/$name"
	check "$name: docker's export unpacks with tar" 0 || return
	for p in $(field "$name" docker_ignore); do
		ign+=(--ignore "$p")
	done
	run "${TD[@]}" --docker-export --xattrs security.capability "${ign[@]}" \
		"$CAN/in/$name" "$T/docker/$name"
	check "$name: the tree equals docker's export" 0
	docker rm "$cid" >/dev/null 2>&1
	docker rmi "$ref" >/dev/null 2>&1
}


n=0
for name in $(corpus_cases); do
	[ "$(field "$name" kind)" = normal ] || continue
	[ "$(field "$name" docker)" = true ] || continue
	corpus_pull "$name" || continue
	docker_case "$name" "$CASE_REF"
	n=$((n + 1))
done
expect "at least 15 images compared with docker ($n)" test "$n" -ge 15

done_testing
