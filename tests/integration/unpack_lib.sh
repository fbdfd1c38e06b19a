# The berth unpack corpus for integration tests, sourced after lib.sh,
# registry.sh and docker_lib.sh: tests/tools/layer_corpus.py's images,
# pushed by skopeo to a docker-registry started here and pulled by berth.
#
#   corpus_setup normal|hostile  generate that part of the corpus under
#                                $T/corpus, the canary $CAN around the DIRs
#                                ($CAN/in/...), start the registry; exports
#                                BERTH_ROOT
#   corpus_cases                 the case names, in order
#   field NAME KEY               a case's field (JSON: true, null, ...)
#   corpus_pull NAME             push NAME's image, berth pull it; sets
#                                CASE_REF; a failed case, status 1
#   canary                       what $CAN holds around the DIRs
#   hostile_case NAME REF        unpack a hostile image in both resolve
#                                modes: refused as the case says, or
#                                neutralised; nothing written outside DIR
#   hostile_group GROUP          every hostile case of GROUP (paths, bounds)

TD=(python3 "$TOOLS/tree_diff.py")
MODES="openat2 walk"
export BERTH_ROOT=$T/store
CAN=$T/canary

corpus_setup() {
	local n
	mkdir -p "$CAN/in" "$CAN/etc"
	echo secret >"$CAN/secret"
	echo victim >"$CAN/victim"
	echo canary >"$CAN/etc/passwd"
	ln -s /etc "$CAN/etc-link"
	run python3 "$TOOLS/layer_corpus.py" "$T/corpus" "$CAN" \
		--platform "$HOST_PLATFORM" --only "$1"
	[ "$RC" = 0 ] || bail "layer_corpus.py failed: $ERR"
	echo "# corpus ($1): $OUT"
	# One file a field ($T/corpus/fields/NAME/KEY, as jget prints it):
	# one python run instead of one a lookup.
	python3 - "$T/corpus/cases.json" "$T/corpus/fields" <<'PY' || bail "cannot split cases.json"
import json, os, sys
cases = json.load(open(sys.argv[1]))
for c in cases:
    d = os.path.join(sys.argv[2], c["name"])
    os.makedirs(d)
    for k, v in c.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif v is None:
            v = "null"
        elif isinstance(v, list):
            v = "\n".join(str(x) for x in v)
        with open(os.path.join(d, k), "w") as f:
            f.write(str(v) + "\n" if str(v) else "")
with open(os.path.join(sys.argv[2], ".names"), "w") as f:
    f.write("".join(c["name"] + "\n" for c in cases))
PY
	n=$(jget 'sum(c["layers"] for c in j)' "$T/corpus/cases.json")
	echo "# $n layers"
	registry_start
}

corpus_cases() {
	cat "$T/corpus/fields/.names"
}

field() {
	cat "$T/corpus/fields/$1/$2"
}

corpus_pull() {
	CASE_REF=$REG/corpus/$1:v1
	if [ "$(field "$1" kind)" = index ]; then
		skopeo_push "$T/corpus/$1" v1 "$CASE_REF" --all
		return 0
	fi
	skopeo_push "$T/corpus/$1" v1 "$CASE_REF"
	run "$BERTH" pull -q "$CASE_REF"
	check "$1: berth pull" 0
}

canary() {
	find "$CAN" -path "$CAN/in" -prune -o -printf '%y %m %s %T@ %p %l\n' | sort
	ls -A "$CAN/in"
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
			same "$name ($mode): the refusal is one message and a hint" \
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

hostile_group() {
	local name n=0 total
	total=$(jget 'sum(c["layers"] for c in j if c["kind"] == "hostile")' "$T/corpus/cases.json")
	expect "the corpus has at least 30 hostile layers ($total)" test "$total" -ge 30
	for name in $(corpus_cases); do
		[ "$(field "$name" group)" = "$1" ] || continue
		corpus_pull "$name" || continue
		hostile_case "$name" "$CASE_REF"
		n=$((n + 1))
	done
	expect "hostile images of group $1 run ($n)" test "$n" -ge 5
}
