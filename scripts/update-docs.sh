#!/usr/bin/env bash
# Rewrites the generated parts of docs/*.md from the built programs, or
# with --check only reports (exit 1) a part that differs from them.
#
# A generated part sits between two marker lines:
#   <!-- BEGIN generated: NAME -->
#   <!-- END generated: NAME -->
# and NAME picks the generator below. Run 'make' first.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}

generate() {
	case $1 in
	serve-settings) "$B/berth-serve" --help-markdown ;;
	config-keys) "$B/berth" _gen config-keys ;;
	*) echo "unknown generated part '$1'" >&2; return 1 ;;
	esac
}

check=0
[ "${1:-}" = --check ] && check=1
status=0
for doc in docs/*.md; do
	names=$(sed -n 's/^<!-- BEGIN generated: \(.*\) -->$/\1/p' "$doc")
	[ -n "$names" ] || continue
	new=$(mktemp)
	cp "$doc" "$new"
	for name in $names; do
		part=$(mktemp)
		generate "$name" >"$part"
		grep -qx "<!-- END generated: $name -->" "$new" || {
			echo "$doc: no end marker for '$name'" >&2
			rm -f "$part" "$new"
			exit 1
		}
		awk -v name="$name" -v part="$part" '
			$0 == "<!-- BEGIN generated: " name " -->" {
				print; while ((getline l < part) > 0) print l
				skip = 1; next
			}
			$0 == "<!-- END generated: " name " -->" { skip = 0 }
			!skip { print }
		' "$new" >"$new.tmp"
		mv "$new.tmp" "$new"
		rm -f "$part"
	done
	if ! cmp -s "$doc" "$new"; then
		if [ $check = 1 ]; then
			echo "$doc is out of date; run scripts/update-docs.sh:" >&2
			diff -u "$doc" "$new" >&2 || :
			status=1
		else
			cp "$new" "$doc"
			echo "updated $doc"
		fi
	fi
	rm -f "$new"
done
exit $status
