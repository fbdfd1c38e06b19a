# berth: one GNU Makefile. Sources are found by wildcard, so adding a file
# to src/lib, src/cli, src/server or tests/unit needs no edit here.
#
#   make              build/berth, build/berth-serve, build/libberth.{a,so}
#   make install      programs, library, headers, berth.pc, man pages and
#                     completions under $(DESTDIR)$(PREFIX) (default /usr/local)
#   make unit         unit tests, built with ASan+UBSan, run
#   make unit T=test_store_gc          one test program
#   make unit T=test_store_gc:gc_keeps_leased   one case of it (see tests/unit/test.h)
#   make test         everything scripts/test.sh runs (deps, unit, integration)
#   make bench        pull benchmark against skopeo (bench/pull.sh)
#   make bench-unpack pull-and-unpack benchmark against docker, containerd,
#                     podman and umoci (bench/unpack.sh; needs root)
#   make fuzz         the libFuzzer harnesses in build/fuzz/ (tests/fuzz/run.sh
#                     builds and runs them; FUZZ_CC=clang by default)
#   make fuzz-long    every harness for FUZZ_RUNS executions (10 million),
#                     FUZZ_JOBS (2) side by side, a summary line for each
#   make man          build/man/berth*.1 from the command and settings tables
#   make completion   build/completion/{berth.bash,_berth}
#   make install-docs man pages and completions under $(DESTDIR)$(PREFIX)

CC      ?= cc
# The library's version; SOMAJOR changes only when the ABI breaks.
VERSION := 0.1.0
SOMAJOR := 0
SONAME  := libberth.so.$(SOMAJOR)
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# libberth links only what the client needs (libarchive is dlopen'ed, so
# only its headers); the server's libraries go into berth-serve alone.
LIB_PKGS := libcurl jansson openssl zlib libzstd libisal yaml-0.1 libsodium
SRV_PKGS := libmicrohttpd gnutls sqlite3 libxml-2.0 libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(LIB_PKGS) $(SRV_PKGS) libarchive 2>/dev/null)
# libdpkg (Debian's version order) is a static library without -fPIC: it
# goes into the programs and libberth.a, and libberth.so refers to it
# weakly (-DBERTH_PIC, src/lib/vuln/version_deb.c).
LIB_LIBS   := $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null) -ldpkg -lm -lpthread
SRV_LIBS   := $(shell pkg-config --libs $(SRV_PKGS) 2>/dev/null) -lcrypt
# The unit tests build tar fixtures with libarchive itself.
TEST_LIBS  := $(shell pkg-config --libs libarchive 2>/dev/null)
# Programs record only the libraries they use: the client never loads the
# server's (libmicrohttpd, GnuTLS, SQLite), which keeps its start-up short.
LDFLAGS_APP := -Wl,--as-needed

OPT     ?= -O2 -g
CFLAGS  ?= $(OPT)
WARN    := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
CPPFLAGS_ALL := -D_GNU_SOURCE -Iinclude -Isrc/lib -Isrc $(PKG_CFLAGS) $(CPPFLAGS)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

B       := build
# V=1 shows the full commands.
Q       := $(if $(V),,@)
LIB_SRC := $(wildcard src/lib/*.c src/lib/*/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
SRV_SRC := $(filter-out src/server/main.c,$(wildcard src/server/*.c src/server/*/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
LIB_PIC := $(LIB_SRC:%.c=$(B)/pic/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
SRV_OBJ := $(SRV_SRC:%.c=$(B)/%.o) $(B)/src/server/main.o
ASAN_LIB := $(LIB_SRC:%.c=$(B)/asan/%.o) $(SRV_SRC:%.c=$(B)/asan/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/tests/%)
# The fuzz harnesses link the library and the server built once more with
# clang's fuzzer instrumentation, from an archive: each harness pulls in
# only the objects it reaches.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_OBJ := $(LIB_SRC:%.c=$(B)/fuzz/obj/%.o) $(SRV_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_CC  ?= clang
# Warnings are gcc's job in the main build; clang's differ. A call that
# passes the wrong types is an error here too.
FUZZ_FLAGS := -std=c11 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-Werror=incompatible-pointer-types -Werror=int-conversion \
	-Werror=implicit-function-declaration

all: $(B)/berth $(B)/berth-serve $(B)/libberth.a $(B)/libberth.so $(B)/$(SONAME)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC pic  $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -fPIC -DBERTH_PIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC asan $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(WARN) -O1 -g $(SAN) -MMD -MP -c $< -o $@

$(B)/libberth.a: $(LIB_OBJ)
	$(Q)ar rcs $@ $^

$(B)/libberth.so.$(VERSION): $(LIB_PIC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--as-needed -o $@ $^ $(LIB_LIBS)

# libberth.so.0 is what programs load, libberth.so what -lberth finds.
$(B)/$(SONAME) $(B)/libberth.so: $(B)/libberth.so.$(VERSION)
	$(Q)ln -sf libberth.so.$(VERSION) $@

# berth.pc for the prefix installed to; the static libraries follow from
# Requires.private and Libs.private (pkg-config --static).
$(B)/berth.pc: berth.pc.in Makefile FORCE
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(LIB_PKGS)|' $< >$@.tmp && mv $@.tmp $@

$(B)/berth: $(CLI_OBJ) $(B)/libberth.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_APP) -o $@ $(CLI_OBJ) $(B)/libberth.a $(LIB_LIBS)

$(B)/berth-serve: $(SRV_OBJ) $(B)/libberth.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_APP) -o $@ $(SRV_OBJ) $(B)/libberth.a $(SRV_LIBS) $(LIB_LIBS)

# Unit tests link the library's objects directly, so they can reach
# internal functions (declared in src/lib/*/*.h and src/server/).
$(B)/asan/tests/%: tests/unit/%.c tests/unit/test.h $(ASAN_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD asan $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests/unit $(WARN) -O1 -g $(SAN) -o $@ $< $(ASAN_LIB) $(SRV_LIBS) $(LIB_LIBS) $(TEST_LIBS)

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(B)/fuzz/libfuzz.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/fuzz/libfuzz.a
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS_ALL) -O1 -g -fsanitize=fuzzer $(FUZZ_FLAGS) -o $@ $< $(B)/fuzz/libfuzz.a $(SRV_LIBS) $(LIB_LIBS) $(TEST_LIBS)

fuzz: $(FUZZ_BIN)

# FUZZ_HARNESSES narrows (and orders) fuzz-long: "ref manifest".
FUZZ_RUNS ?= 10000000
FUZZ_JOBS ?= 2
FUZZ_HARNESSES ?=
fuzz-long:
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_CC=$(FUZZ_CC) \
		tests/fuzz/run.sh 0 $(FUZZ_HARNESSES)

# T=program[:case] narrows `make unit` to one program, or one of its cases.
T_PROG   = $(word 1,$(subst :, ,$(T)))
T_CASE   = $(word 2,$(subst :, ,$(T)))
UNIT_RUN = $(if $(T),$(B)/asan/tests/$(T_PROG),$(UNIT_BIN))

unit: $(UNIT_RUN)
	@BERTH_TEST_CASE='$(T_CASE)' tests/run-unit.sh $(UNIT_RUN)

# What a program needs: berth and berth-serve side by side (berth runs the
# berth-serve beside it), the library, its headers and berth.pc; then the
# man pages and completions (install-docs).
install: all $(B)/berth.pc install-docs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/berth $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(B)/berth $(B)/berth-serve $(DESTDIR)$(BINDIR)/
	install -m 644 include/berth/*.h $(DESTDIR)$(INCLUDEDIR)/berth/
	install -m 644 $(B)/libberth.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libberth.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libberth.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libberth.so
	install -m 644 $(B)/berth.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/berth $(DESTDIR)$(BINDIR)/berth-serve \
		$(DESTDIR)$(LIBDIR)/libberth.a $(DESTDIR)$(LIBDIR)/libberth.so \
		$(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libberth.so.$(VERSION) \
		$(DESTDIR)$(PKGCONFIGDIR)/berth.pc \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/berth \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_berth
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/berth.1 \
		$(DESTDIR)$(PREFIX)/share/man/man1/berth-*.1
	rm -rf $(DESTDIR)$(INCLUDEDIR)/berth

test:
	scripts/test.sh

# Man pages and shell completion come from the CLI's command and option
# tables (src/cli/gen.c) and berth serve's settings table, so they list
# what --help lists; the completion reads serve's from berth-serve.
man: $(B)/berth $(B)/berth-serve
	@mkdir -p $(B)/man
	$(Q)$(B)/berth _gen man $(B)/man
	$(Q)$(B)/berth-serve --help-man >$(B)/man/berth-serve.1

completion: $(B)/berth $(B)/berth-serve
	@mkdir -p $(B)/completion
	$(Q)$(B)/berth completion bash >$(B)/completion/berth.bash
	$(Q)$(B)/berth completion zsh >$(B)/completion/_berth

install-docs: man completion
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions
	install -m 644 $(B)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(B)/completion/berth.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/berth
	install -m 644 $(B)/completion/_berth \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_berth

bench: all
	bench/pull.sh

# bench/layer_decode: the layer decoder's throughput (bench/decode.sh).
$(B)/bench/%: bench/%.c $(B)/libberth.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) -o $@ $< $(B)/libberth.a $(LIB_LIBS)

bench-server: all
	bench/server.sh

bench-unpack: all
	bench/unpack.sh

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(SRV_SRC) $(wildcard include/berth/*.h src/*/*.h src/*/*/*.h)

clean:
	rm -rf $(B)

FORCE:

.PHONY: all install uninstall unit fuzz fuzz-long test bench bench-server bench-unpack format clean man completion install-docs FORCE
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
