#!/usr/bin/env bash
# libberth as a program outside the tree sees it: `make install` into a
# staging DESTDIR under a PREFIX, then the example programs in
# tests/libberth/ (C, C++, and C linked statically) built only through
# pkg-config against the installed headers and library; they pull images
# from a docker-registry started here and list the store.
. tests/integration/lib.sh
. tests/integration/registry.sh

STAGE=$T/stage
PREFIX=/opt/berth
P=$STAGE$PREFIX

# --- make install ---------------------------------------------------------
run make -s -C "$TOP" install DESTDIR="$STAGE" PREFIX="$PREFIX"
check "make install DESTDIR PREFIX" 0
missing=""
for f in bin/berth bin/berth-serve lib/libberth.a lib/libberth.so.0.1.0 \
	lib/pkgconfig/berth.pc; do
	[ -f "$P/$f" ] || missing+=" $f"
done
for h in "$TOP"/include/berth/*.h; do
	cmp -s "$h" "$P/include/berth/${h##*/}" || missing+=" include/berth/${h##*/}"
done
same "install: programs, libraries, every public header, berth.pc" "$missing" ""
same "install: libberth.so -> libberth.so.0 -> libberth.so.0.1.0" \
	"$(readlink "$P/lib/libberth.so") $(readlink "$P/lib/libberth.so.0")" \
	"libberth.so.0 libberth.so.0.1.0"
same "libberth.so.0.1.0 has SONAME libberth.so.0" \
	"$(readelf -d "$P/lib/libberth.so.0.1.0" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')" \
	"libberth.so.0"

# berth runs the berth-serve installed beside it.
run "$P/bin/berth" serve --help
check "installed berth serve finds berth-serve beside it" 0 "usage: berth serve"

# Every function the public headers declare (as the compiler reads them)
# is exported by the installed shared library, and nothing else is.
printf '#include <berth/%s>\n' $(cd "$P/include/berth" && ls) >"$T/all.c"
gcc -aux-info "$T/aux.txt" -fsyntax-only -I"$P/include" "$T/all.c" ||
	bail "cannot read the installed headers"
grep "^/\* $P/include/berth/" "$T/aux.txt" | grep -v ' static ' |
	sed -n 's/.*[ *]\(berth_[a-z0-9_]*\) (.*/\1/p' | sort -u >"$T/declared"
nm -D --defined-only "$P/lib/libberth.so.0.1.0" | awk '$2 == "T" {print $3}' |
	sort -u >"$T/exported"
same "every declared function is exported" "$(comm -23 "$T/declared" "$T/exported")" ""
same "every exported function is declared" "$(comm -13 "$T/declared" "$T/exported")" ""
[ "$(wc -l <"$T/declared")" -gt 90 ] || fail "declarations found" "only $(wc -l <"$T/declared")"

# --- build the examples through pkg-config ----------------------------------
# The staged tree answers for the prefix it was built for.
export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE
run env -u PKG_CONFIG_SYSROOT_DIR pkg-config --variable=prefix berth
same "berth.pc names the prefix" "$OUT" "$PREFIX"
run pkg-config --modversion berth
same "berth.pc version" "$OUT" "0.1.0"
CFLAGS_B=$(pkg-config --cflags berth) LIBS_B=$(pkg-config --libs berth) ||
	bail "pkg-config berth failed"
# Static linking needs what libberth itself links: Requires.private and
# Libs.private. (Debian's libcurl does not ship the static libraries of
# its own dependencies, so those stay shared.)
run pkg-config --static --libs berth
check "pkg-config --static lists libberth's own libraries" 0 \
	"-lcurl" "-ljansson" "-lssl" "-lcrypto" "-lz( |$)" "-lzstd" "-lisal" "-lpthread"
STATIC_B="-l:libberth.a $(pkg-config --libs $(pkg-config --print-requires-private berth)) -lpthread" ||
	bail "pkg-config --print-requires-private berth failed"
# Nothing from the source tree: copies of the examples, the installed headers.
cp "$TOP/tests/libberth/example.c" "$TOP/tests/libberth/example.cpp" "$T/"
cd "$T" || bail "cd $T"

run cc -std=c11 -Wall -Wextra -Werror example.c $CFLAGS_B $LIBS_B \
	-Wl,-rpath,"$P/lib" -o ex_c
check "C example builds with pkg-config --cflags --libs berth" 0
run c++ -std=c++11 -Wall -Wextra -Werror example.cpp $CFLAGS_B $LIBS_B \
	-Wl,-rpath,"$P/lib" -o ex_cpp
check "C++ example builds against the same headers" 0
# Static: libberth.a and the libraries berth.pc lists as private.
run cc -std=c11 -Wall -Wextra -Werror example.c $CFLAGS_B \
	-L"$P/lib" $STATIC_B -o ex_static
check "C example links libberth.a with the private requirements" 0

# Every _INIT macro of the installed headers initialises its struct in C
# and in C++ without a warning (each field written out), and sets the
# version of each struct that has one. Every struct that starts with a
# version has its macro.
versioned=$(awk '/^typedef struct berth_[a-z0-9_]* \{$/ {t = $3; getline;
	if ($1 == "unsigned" && $2 == "version;") print t}' "$P"/include/berth/*.h | sort)
macros=$(sed -n 's/^#define \(BERTH_[A-Z0-9_]*\)_INIT\b.*/\1/p' \
	"$P"/include/berth/*.h | tr A-Z a-z | sort)
same "every versioned struct has its _INIT macro" \
	"$(comm -23 <(echo "$versioned") <(echo "$macros"))" ""
[ "$(wc -l <<<"$versioned")" -ge 11 ] ||
	fail "versioned structs found" "only: $versioned"
{
	printf '#include <berth/%s>\n' $(cd "$P/include/berth" && ls)
	echo 'int main(void) { int bad = 0;'
	for t in $macros; do
		m=$(tr a-z A-Z <<<"$t")
		echo "	{ $t v = ${m}_INIT; (void)v;"
		grep -qx "$t" <<<"$versioned" &&
			echo "	  bad += v.version != ${m}_VERSION;"
		echo "	}"
	done
	echo '	return bad; }'
} >inits.c
run cc -std=c11 -Wall -Wextra -Werror inits.c $CFLAGS_B $LIBS_B \
	-Wl,-rpath,"$P/lib" -o inits_c
check "the _INIT macros compile as C without warnings" 0
run c++ -std=c++11 -Wall -Wextra -Werror -x c++ inits.c $CFLAGS_B \
	$LIBS_B -Wl,-rpath,"$P/lib" -o inits_cpp
check "the _INIT macros compile as C++ without warnings" 0
run ./inits_c
check "C: each _INIT macro sets its struct's version" 0
run ./inits_cpp
check "C++: each _INIT macro sets its struct's version" 0

run ldd ./ex_c
check "the C example loads the installed libberth.so.0" 0 \
	"libberth\.so\.0 => $P/lib/libberth\.so\.0 "
run ldd ./ex_cpp
check "the C++ example loads the installed libberth.so.0" 0 \
	"libberth\.so\.0 => $P/lib/libberth\.so\.0 "
run ldd ./ex_static
if [ "$RC" = 0 ] && ! grep -q libberth <<<"$OUT"; then
	ok "the static example needs no libberth.so"
else
	fail "the static example needs no libberth.so" "$OUT"
fi

# --- pull and list --------------------------------------------------------
registry_start
mkimage "$T/src" --tag one --layer 16k --layer 32k --seed lib-one >"$T/one.json"
mkimage "$T/src" --tag two --layer 8k --seed lib-two >"$T/two.json"
skopeo_push "$T/src" one "$REG/lib/one:v1"
skopeo_push "$T/src" two "$REG/lib/two:v1"
one=$(jget 'j["digest"]' "$T/one.json")
two=$(jget 'j["digest"]' "$T/two.json")

run ./ex_c "$T/store" "$REG/lib/one:v1"
check "C example pulls" 0
same "C example: what it pulled and the store's images" "$OUT" \
	"pulled $REG/lib/one:v1 $one (2 layers downloaded)
image $REG/lib/one:v1 $one"

run ./ex_cpp "$T/store" "$REG/lib/two:v1"
check "C++ example pulls into the same store" 0
same "C++ example: what it pulled and both images" "$OUT" \
	"pulled $REG/lib/two:v1 $two (1 layers downloaded)
image $REG/lib/one:v1 $one
image $REG/lib/two:v1 $two"

run ./ex_static "$T/store" "$REG/lib/one:v1"
check "static example pulls again" 0
same "static example: nothing downloaded twice" "$(head -n1 <<<"$OUT")" \
	"pulled $REG/lib/one:v1 $one (0 layers downloaded)"
store_consistent "the store the examples wrote is a valid OCI layout" "$T/store"

run ./ex_c "$T/store" "$REG/lib/one:nope"
check "C example: an unknown tag fails with the library's error" 1 \
	"^example: .*nope.* \(ENOTFOUND\)$"
run ./ex_cpp "$T/store" "Not/A:Reference"
check "C++ example: an invalid reference fails with EREF" 1 "\(EREF\)$"

# --- make uninstall ---------------------------------------------------------
cd "$TOP" || bail "cd $TOP"
run make -s uninstall DESTDIR="$STAGE" PREFIX="$PREFIX"
check "make uninstall" 0
same "make uninstall removes everything install put there" \
	"$(find "$P" ! -type d)" ""

done_testing
