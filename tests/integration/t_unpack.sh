#!/usr/bin/env bash
# berth unpack on a corpus of generated layers (tests/tools/layer_corpus.py),
# pushed by skopeo to docker-registry and pulled by berth. Each normal image
# unpacks, with openat2 and with the O_NOFOLLOW walk, to the tree umoci
# unpacks and, where docker 20.10 loads the image, to the tree docker
# exports; each hostile one is refused with its message, or neutralised,
# with nothing written outside DIR in the canary directory around it.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh

TD=(python3 "$TOOLS/tree_diff.py")
MODES="openat2 walk"
export BERTH_ROOT=$T/store
CAN=$T/canary
mkdir -p "$CAN/in" "$CAN/etc"
echo secret >"$CAN/secret"
echo victim >"$CAN/victim"
echo canary >"$CAN/etc/passwd"
ln -s /etc "$CAN/etc-link"

run python3 "$TOOLS/layer_corpus.py" "$T/corpus" "$CAN" --platform "$HOST_PLATFORM"
[ "$RC" = 0 ] || bail "layer_corpus.py failed: $ERR"
echo "# corpus: $OUT"
n_layers=$(jget 'sum(c["layers"] for c in j)' "$T/corpus/cases.json")
expect "the corpus has at least 30 layers ($n_layers)" test "$n_layers" -ge 30

registry_start
docker_start "$REG"

# canary: everything around the DIRs, and which entries in/ holds.
canary() {
	find "$CAN" -path "$CAN/in/*" -prune -o -printf '%y %m %s %T@ %p %l\n' | sort
	ls -A "$CAN/in"
}

field() {
	jget "[c for c in j if c['name'] == '$1'][0]['$2']" "$T/corpus/cases.json"
}

normal_case() {
	local name=$1 ref=$2 mode dir flags=() ign=()
	[ "$(field "$name" mtimes 2>/dev/null)" = True ] && flags=(--mtimes --dir-mtimes)
	run skopeo_ copy -q --src-tls-verify=false "docker://$ref" "oci:$T/oci:$name"
	[ "$RC" = 0 ] || { fail "$name: skopeo copy to a layout" "$ERR"; return; }
	run umoci unpack --image "$T/oci:$name" "$T/umoci/$name"
	check "$name: umoci unpacks it" 0 || return
	for mode in $MODES; do
		dir=$CAN/in/$name-$mode
		run env BERTH_UNPACK_RESOLVE=$mode "$BERTH" unpack "$ref" "$dir"
		check "$name ($mode): berth unpack" 0 "Unpacked .* into $dir" || continue
		run "${TD[@]}" "${flags[@]}" "$T/umoci/$name/rootfs" "$dir"
		check "$name ($mode): the tree equals umoci's" 0
	done
	[ "$(field "$name" docker)" = True ] || return
	run docker pull -q "$ref"
	check "$name: docker pull" 0 || return
	run docker create "$ref" /bin/sh
	check "$name: docker create" 0 || return
	local cid=$OUT
	mkdir -p "$T/docker/$name"
	run docker export -o "$T/docker/$name.tar" "$cid"
	check "$name: docker export" 0 || return
	run tar -xpf "$T/docker/$name.tar" --numeric-owner --xattrs \
		--xattrs-include='*' -C "$T/docker/$name"
	check "$name: docker's export unpacks with tar" 0 || return
	for p in $(jget "' '.join(c for c in [x for x in j if x['name'] == '$name'][0]['docker_ignore'])" "$T/corpus/cases.json"); do
		ign+=(--ignore "$p")
	done
	run "${TD[@]}" --docker-export --xattrs security.capability "${ign[@]}" \
		"$CAN/in/$name-openat2" "$T/docker/$name"
	check "$name: the tree equals docker's export" 0
	docker rm "$cid" >/dev/null 2>&1
	docker rmi "$ref" >/dev/null 2>&1
}

hostile_case() {
	local name=$1 ref=$2 mode dir before after refused status max p
	refused=$(field "$name" refused)
	status=$(field "$name" status)
	max=$(field "$name" max_size)
	for mode in $MODES; do
		dir=$CAN/in/$name-$mode
		before=$(canary)
		local args=()
		[ "$max" = None ] || args=(--max-unpacked-size "$max")
		run env BERTH_UNPACK_RESOLVE=$mode "$BERTH" unpack "${args[@]}" "$ref" "$dir"
		if [ "$refused" != None ]; then
			if [ "$status" = None ]; then
				[ "$RC" != 0 ] && ok "$name ($mode): refused (exit $RC)" ||
					fail "$name ($mode): refused" "exit 0"
				check "$name ($mode): the message" "$RC" "$refused"
			else
				check "$name ($mode): refused" "$status" "$refused"
			fi
			same "$name ($mode): the refusal is one line and a hint" \
				"$(grep -c '^berth: ' <<<"$ERR") $(grep -c '^hint: ' <<<"$ERR")" "1 1"
			expect "$name ($mode): DIR was not created" test ! -e "$dir"
		else
			check "$name ($mode): unpacked, neutralised" 0
			for p in $(field "$name" inside | tr -d "[],'"); do
				expect "$name ($mode): '$p' is inside DIR" test -e "$dir/$p" -o -L "$dir/$p"
			done
			for p in $(field "$name" absent | tr -d "[],'"); do
				expect "$name ($mode): '$p' is not in DIR" test ! -e "$dir/$p"
			done
			before=$(sed "\$a$name-$mode" <<<"$before" | sort)
		fi
		after=$(canary)
		same "$name ($mode): nothing written outside DIR" "$(sort <<<"$after")" "$(sort <<<"$before")"
	done
}

for name in $(jget "' '.join(c['name'] for c in j)" "$T/corpus/cases.json"); do
	kind=$(field "$name" kind)
	ref=$REG/corpus/$name:v1
	if [ "$kind" = index ]; then
		skopeo_push "$T/corpus/$name" v1 "$ref" --all
		continue
	fi
	skopeo_push "$T/corpus/$name" v1 "$ref"
	run "$BERTH" pull -q "$ref"
	check "$name: berth pull" 0 || continue
	if [ "$kind" = normal ]; then
		normal_case "$name" "$ref"
	else
		hostile_case "$name" "$ref"
	fi
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

# ---- a killed run, then the next ----------------------------------------------
ref=$REG/corpus/large-file:v1
bg env BERTH_UNPACK_RESOLVE=walk "$BERTH" unpack "$ref" "$T/killed"
pid=$BG_PID
staged() { compgen -G "$T/.killed.berth-stage-*/big/file" >/dev/null; }
expect "the unpack is under way in its staging directory" wait_for 120 staged
kill -9 "$pid"
wait "$pid" 2>/dev/null
expect "a killed run leaves DIR absent" test ! -e "$T/killed"
expect "... and its staging directory behind" staged
run "$BERTH" unpack "$ref" "$T/killed"
check "the next run succeeds" 0
same "... and removes the dead run's staging" "$(ls -A "$T" | grep -c '^\.killed\.berth')" 0
same "... with the whole file" "$(stat -c %s "$T/killed/big/file")" $((64 << 20))

done_testing
