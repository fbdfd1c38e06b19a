#!/usr/bin/env bash
# Calls and includes run one way: no two source files of a program (lib,
# server, cli) include or call each other in a loop, and a private header
# (*_int.h) is included only from its own folder. The checker is first
# shown small synthetic trees, so a checker that passes everything fails
# here; then it runs on the built tree.
. tests/integration/lib.sh

CHECK=$TOP/tests/tools/check_layering.py
CC=${CC:-cc}

# tree DIR FILE CONTENT [FILE CONTENT...]: writes a synthetic source tree.
tree() {
	local dir=$1
	shift
	while [ $# -ge 2 ]; do
		mkdir -p "$(dirname "$dir/$1")"
		printf '%s\n' "$2" >"$dir/$1"
		shift 2
	done
}

# objects DIR: compiles DIR's .c files into DIR/build, as the Makefile does.
objects() {
	local dir=$1 c
	(cd "$dir" && for c in $(find src -name '*.c'); do
		mkdir -p "build/$(dirname "$c")"
		"$CC" -Iinclude -Isrc/lib -Isrc -c "$c" -o "build/${c%.c}.o" || exit 1
	done)
}

# A two-file call loop: x.c calls y_fn, y.c calls x_fn.
tree "$T/calls" \
	src/lib/a/x.c 'int y_fn(void); int x_fn(void) { return y_fn(); }' \
	src/lib/a/y.c 'int x_fn(void); int y_fn(int n) { return n ? x_fn() : 0; }'
objects "$T/calls"
run python3 "$CHECK" --root "$T/calls"
check "a two-file call loop fails" 1 \
	'lib: call loop among src/lib/a/x.c, src/lib/a/y.c' \
	'src/lib/a/x.c -> src/lib/a/y.c: y_fn' \
	'src/lib/a/y.c -> src/lib/a/x.c: x_fn'

# A three-file call loop in the server: p -> q -> r -> p.
tree "$T/ring" \
	src/server/p.c 'int q_fn(void); int p_fn(void) { return q_fn(); }' \
	src/server/q.c 'int r_fn(void); int q_fn(void) { return r_fn(); }' \
	src/server/r.c 'int p_fn(void); int r_fn(int n) { return n ? p_fn() : 0; }'
objects "$T/ring"
run python3 "$CHECK" --root "$T/ring"
check "a three-file call loop fails" 1 \
	'server: call loop among src/server/p.c, src/server/q.c, src/server/r.c' \
	'src/server/r.c -> src/server/p.c: p_fn'

# Two headers that include each other.
tree "$T/inc" \
	src/cli/a.h '#ifndef A_H
#define A_H
#include "cli/b.h"
#endif' \
	src/cli/b.h '#ifndef B_H
#define B_H
#include "cli/a.h"
#endif' \
	src/cli/main.c '#include "cli/a.h"
int main(void) { return 0; }'
objects "$T/inc"
run python3 "$CHECK" --root "$T/inc"
check "an include loop fails" 1 'cli: include loop among src/cli/a.h, src/cli/b.h'

# A private header included from another folder.
tree "$T/priv" \
	src/lib/m/m_int.h 'int m_fn(void);' \
	src/lib/m/m.c '#include "m/m_int.h"
int m_fn(void) { return 0; }' \
	src/lib/job.c '#include "m/m_int.h"
int job(void) { return m_fn(); }'
objects "$T/priv"
run python3 "$CHECK" --root "$T/priv"
check "a private header used outside its folder fails" 1 \
	'src/lib/job.c includes src/lib/m/m_int.h, private to src/lib/m/'

# The same calls, one way: passes.
tree "$T/oneway" \
	src/lib/m/m_int.h 'int m_fn(void);' \
	src/lib/m/m.c '#include "m/m_int.h"
int m_fn(void) { return 0; }' \
	src/lib/m/n.c '#include "m/m_int.h"
int n_fn(void) { return m_fn(); }' \
	src/lib/job.c 'int n_fn(void); int job(void) { return n_fn(); }'
objects "$T/oneway"
run python3 "$CHECK" --root "$T/oneway"
check "calls that run one way pass" 0 'layering: no loops'

# berth itself, as built.
run python3 "$CHECK" --root "$TOP"
check "berth's sources have no loops" 0 'layering: no loops'
[ "$RC" = 0 ] || printf '%s\n' "$OUT" | head -n 40

done_testing
