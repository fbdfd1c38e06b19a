#!/usr/bin/env bash
# Generated documentation agrees with the programs: the settings tables in
# docs/*.md, and each command's man page and bash/zsh completion against
# its --help (every option in one is in the others).
. tests/integration/lib.sh

SERVE=$(dirname "$BERTH")/berth-serve

# --- docs/*.md generated parts ---------------------------------------------
BDIR=$(cd "$(dirname "$BERTH")" && pwd)
run env B="$BDIR" scripts/update-docs.sh --check
check "docs match berth-serve --help-markdown and the config keys" 0
grep -qx '<!-- BEGIN generated: config-keys -->' docs/config.md ||
	fail "docs/config.md has the generated config-keys part" "no marker"
run "$BERTH" _gen config-keys
check "berth _gen config-keys lists the keys" 0 '^\| `retry-after-max` \| berth.s \| seconds \| `10` \| 0 to 3600 \|' \
	'^\| `registry-mirrors` \| daemon.json'

# --check fails on a doc that differs: a copy of the tree, one row edited
# in each generated part.
mkdir -p "$T/tree"
cp -r scripts docs "$T/tree/"
for edit in 's/^\(| `retries` .*\)`3`/\1`4`/:docs/config.md' \
	's/^| `--token-ttl SECONDS` |/| `--token-ttl S` |/:docs/server.md'; do
	sed_expr=${edit%:*} doc=${edit##*:}
	cp "docs/$(basename "$doc")" "$T/tree/$doc"
	sed -i "$sed_expr" "$T/tree/$doc"
	if cmp -s "docs/$(basename "$doc")" "$T/tree/$doc"; then
		fail "edit $doc for the --check case" "sed changed nothing"
		continue
	fi
	run env B="$BDIR" "$T/tree/scripts/update-docs.sh" --check
	check "update-docs.sh --check fails on an edited $doc" 1 "$doc is out of date"
	cp "docs/$(basename "$doc")" "$T/tree/$doc"
done
run env B="$BDIR" "$T/tree/scripts/update-docs.sh" --check
check "update-docs.sh --check passes on the copy restored" 0

run "$SERVE" --help
check "berth serve --help lists --refresh-token-ttl" 0 '--refresh-token-ttl SECONDS'
for k in $("$SERVE" --help-markdown | sed -n 's/^| `--\([a-z-]*\).*/\1/p'); do
	grep -q -- "--$k" <<<"$OUT" || fail "serve --help lists --$k" "missing"
done
ok "serve --help lists every flag of the settings table"

# --- man pages and completion ------------------------------------------------
mkdir -p "$T/man"
run "$BERTH" _gen man "$T/man"
check "berth _gen man" 0
"$SERVE" --help-man >"$T/man/berth-serve.1"
expect "berth-serve --help-man writes a page" test -s "$T/man/berth-serve.1"
"$BERTH" completion bash >"$T/berth.bash"
"$BERTH" completion zsh >"$T/_berth"
expect "bash -n on the bash completion" bash -n "$T/berth.bash"
if command -v zsh >/dev/null; then
	expect "zsh -n on the zsh completion" zsh -n "$T/_berth"
else
	echo "# zsh not installed: zsh -n not run"
fi
run "$BERTH" completion fish
check "completion for an unknown shell is a usage error" 2 "expected 'bash' or 'zsh'"

# opts_of KIND FILE CMD: the options a --help text, a man page or a
# completion script names for CMD, sorted, one a line.
opts_of() {
	python3 - "$@" <<'PY'
import re, sys
kind, path, cmd = sys.argv[1:]
text = open(path).read()
found = set()
if kind == "help":
    m = re.search(r"^[Oo]ptions[^\n]*:\n((?:  .*\n?)*)", text, re.M)
    for line in m.group(1).splitlines():
        m2 = re.match(r"  ((?:-[A-Za-z], )?--[a-z][a-z0-9-]*)", line)
        if m2:
            found.update(re.findall(r"--?[A-Za-z][a-z0-9-]*", m2.group(1)))
elif kind == "man":
    lines = text.splitlines()
    for i, l in enumerate(lines[:-1]):
        if l == ".TP":
            tag = re.sub(r"\\f[BRI]", "", lines[i + 1]).replace("\\-", "-")
            found.update(re.findall(r"(?:^|, )(--?[A-Za-z][a-z0-9-]*)", tag))
elif kind == "bash":
    block = re.search(r"^\t%s\)\n(.*?)\t\tfi ;;" % (re.escape(cmd) if cmd else "''"),
                      text, re.S | re.M).group(1)
    words = re.search(r"compgen -W '([^']*)'", block).group(1)
    found.update(w for w in words.split() if w.startswith("-"))
elif kind == "zsh":
    if cmd:
        block = re.search(r"^\t\t%s\)\n(.*?)&& ret=0 ;;" % re.escape(cmd),
                          text, re.S | re.M).group(1)
    else:
        block = re.search(r"_arguments -C \\\n(.*?)'1:command", text, re.S).group(1)
    for line in block.splitlines():
        m = re.match(r"\s*'\([^)]*\)'\{([^}]*)\}", line)
        if m:
            found.update(m.group(1).split(","))
            continue
        m = re.match(r"\s*'(--?[A-Za-z][a-z0-9-]*)\[", line)
        if m:
            found.add(m.group(1))
print("\n".join(sorted(found)))
PY
}

cmds=$("$BERTH" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
same "the command list is complete" "$(wc -w <<<"$cmds" | tr -d ' ')" 27
"$BERTH" --help >"$T/help-berth"
for c in "" $cmds; do
	name=berth${c:+-$c}
	[ -z "$c" ] || "$BERTH" "$c" --help >"$T/help-$name"
	want=$(opts_of help "$T/help-$name" "$c")
	if [ -z "$want" ] || ! grep -qx -- --help <<<"$want"; then
		fail "$name --help lists options" "got [$want]"
		continue
	fi
	same "$name: man page options = --help" "$(opts_of man "$T/man/$name.1" "$c")" "$want"
	same "$name: bash completion options = --help" "$(opts_of bash "$T/berth.bash" "$c")" "$want"
	same "$name: zsh completion options = --help" "$(opts_of zsh "$T/_berth" "$c")" "$want"
	page=$(MANWIDTH=80 man -l "$T/man/$name.1" 2>"$T/man.err")
	if grep -q '^NAME' <<<"$page" && grep -q "SYNOPSIS" <<<"$page" && [ ! -s "$T/man.err" ]; then
		ok "man -l $name.1 renders"
	else
		fail "man -l $name.1 renders" "$(head -c 300 "$T/man.err")"
	fi
done

# The completion completes: options of a command, commands after globals.
words=$(bash -c '. "$1"; COMP_WORDS=(berth --root /tmp pul); COMP_CWORD=3; _berth; echo "${COMPREPLY[@]}"' _ "$T/berth.bash")
same "bash completes a command after a global option" "$words" "pull"
words=$(bash -c '. "$1"; COMP_WORDS=(berth pull --max-c); COMP_CWORD=2; _berth; echo "${COMPREPLY[@]}"' _ "$T/berth.bash")
same "bash completes a command's option" "$words" "--max-concurrent-downloads"
words=$(bash -c '. "$1"; COMP_WORDS=(berth serve --refresh); COMP_CWORD=2; _berth; echo "${COMPREPLY[@]}"' _ "$T/berth.bash")
same "bash completes an option of berth-serve" "$words" "--refresh-token-ttl"

# Without berth-serve beside it, berth still prints a whole script; serve
# then completes -h and --help only, and berth says why.
mkdir -p "$T/alone"
cp "$BERTH" "$T/alone/berth"
run "$T/alone/berth" completion bash
check "completion without berth-serve: a warning, exit 0" 0 "completes no options"
printf '%s\n' "$OUT" >"$T/alone.bash"
same "completion without berth-serve: serve offers -h --help" \
	"$(opts_of bash "$T/alone.bash" serve | tr '\n' ' ')" "--help -h "
expect "completion without berth-serve: bash -n" bash -n "$T/alone.bash"

# --- make install-docs --------------------------------------------------------
if [ "$BERTH" = "$TOP/build/berth" ]; then
	run make -s install-docs PREFIX=/usr DESTDIR="$T/inst"
	check "make install-docs" 0
	for f in share/man/man1/berth.1 share/man/man1/berth-pull.1 share/man/man1/berth-serve.1 \
		share/bash-completion/completions/berth share/zsh/vendor-completions/_berth; do
		[ -s "$T/inst/usr/$f" ] || fail "install-docs installs $f" "missing"
	done
	ok "install-docs puts man pages and completions under PREFIX/share"
fi

done_testing
