#!/usr/bin/env bash
# berth unpack on the hostile part of the layer corpus
# (tests/tools/layer_corpus.py: "..", absolute names, links to "/" and ".."
# written through, hard links out, a link swapped for a directory between
# entries, whiteouts naming ../x or through links, NUL bytes, names over
# PATH_MAX, bombs, a wrong diff ID, a truncated layer), pushed by skopeo to
# docker-registry and pulled by berth. Each is refused with its exit status
# and one message (and hint), leaving no DIR, or unpacked with the attack
# neutralised; in both resolve modes, nothing is ever written outside DIR in
# the canary directory around it.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/docker_lib.sh
. tests/integration/unpack_lib.sh

corpus_setup hostile

hostile_case() {
	local name=$1 ref=$2 mode dir before after refused status max p
	refused=$(field "$name" refused)
	status=$(field "$name" status)
	max=$(field "$name" max_size)
	for mode in $MODES; do
		dir=$CAN/in/$name-$mode
		before=$(canary)
		local args=()
		[ "$max" = null ] || args=(--max-unpacked-size "$max")
		run env BERTH_UNPACK_RESOLVE=$mode "$BERTH" unpack "${args[@]}" "$ref" "$dir"
		if [ "$refused" != null ]; then
			if [ "$status" = null ]; then
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
			for p in $(field "$name" inside); do
				expect "$name ($mode): '$p' is inside DIR" test -e "$dir/$p" -o -L "$dir/$p"
			done
			for p in $(field "$name" absent); do
				expect "$name ($mode): '$p' is not in DIR" test ! -e "$dir/$p"
			done
			before=$(printf '%s\n%s\n' "$before" "$name-$mode" | sort)
		fi
		after=$(canary)
		same "$name ($mode): nothing written outside DIR" "$(sort <<<"$after")" "$(sort <<<"$before")"
	done
}

n=0
for name in $(corpus_cases); do
	corpus_pull "$name" || continue
	hostile_case "$name" "$CASE_REF"
	n=$((n + $(field "$name" layers)))
done
expect "at least 30 hostile layers ($n)" test "$n" -ge 30

done_testing
