#!/usr/bin/env bash
# Every C source and header is formatted with the repository's
# .clang-format: a file that disagrees fails with the first lines of the
# difference (`make format` rewrites the tree).
. tests/integration/lib.sh

if ! command -v clang-format >/dev/null; then
	fail "clang-format is installed" "not found (scripts/install-deps.sh installs it)"
	exit 1
fi

files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h')
bad=0
for f in $files; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		fail "clang-format: $f" "$(clang-format "$f" | diff "$f" - | head -n 6 | tr '\n' ' ')"
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ] && ok "clang-format: $(wc -w <<<"$files") files agree with .clang-format"

# The check itself: a badly formatted file is caught.
printf 'int  main( void ){return 0;}\n' >"$T/bad.c"
cp .clang-format "$T/.clang-format"
if clang-format --dry-run -Werror "$T/bad.c" >/dev/null 2>&1; then
	fail "clang-format check catches a badly formatted file" "it passed"
else
	ok "clang-format check catches a badly formatted file"
fi
exit "$_failed"
