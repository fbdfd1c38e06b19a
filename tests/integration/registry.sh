# Fixtures for integration tests, sourced after lib.sh: Debian's
# docker-registry (distribution 2.8) on 127.0.0.1, generated images pushed
# with skopeo, the hostile test registry, and checks of the local store made
# without berth's help.
#
#   registry_start            start a docker-registry; sets REG (host:port),
#                             REG_DIR, REG_LOG (its access log)
#   reg_mark / reg_since M    access-log line count now / the lines after it
#   hostile_start [ARGS...]   start tests/tools/hostile_registry.py (ARGS
#                             passed on); sets HOSTILE (host:port) and
#                             HOSTILE_LOG
#   mkimage DIR ARGS...       tests/tools/mkimage.py (prints its summary)
#   skopeo_push DIR TAG DEST [ARGS...]
#                             skopeo copy oci:DIR:TAG docker://DEST
#   jget EXPR [FILE]          evaluate EXPR over JSON (tests/tools/jget.py)
#   storecheck CMD STORE ...  tests/tools/storecheck.py
#   HOST_PLATFORM             linux/amd64, linux/arm64, ... of this machine

TOOLS=$TOP/tests/tools

case $(uname -m) in
x86_64 | amd64) HOST_PLATFORM=linux/amd64 ;;
aarch64 | arm64) HOST_PLATFORM=linux/arm64 ;;
armv7l | armhf) HOST_PLATFORM=linux/arm/v7 ;;
*) HOST_PLATFORM=linux/$(uname -m) ;;
esac
HOST_ARCH=${HOST_PLATFORM#linux/}
HOST_ARCH=${HOST_ARCH%%/*}

# A policy of our own, so skopeo never depends on /etc/containers.
mkdir -p "$T/containers"
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$T/containers/policy.json"

# bail MESSAGE: a fixture failed; the script cannot go on.
bail() {
	echo "not ok - fixture: $1"
	exit 1
}

registry_start() {
	local port dir
	port=$(free_port)
	dir=$(mktemp -d "$T/registry.XXXXXX")
	mkdir -p "$dir/data"
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: berth-integration-test
${REGISTRY_EXTRA_YML:-}
EOF
	# The access log (combined log format) goes to stdout, the
	# application log to stderr.
	bg /usr/bin/docker-registry serve "$dir/config.yml" \
		>"$dir/access.log" 2>"$dir/registry.log"
	wait_http "http://127.0.0.1:$port/v2/" ||
		bail "docker-registry did not start: $(tail -n 3 "$dir/registry.log")"
	REG=127.0.0.1:$port
	REG_DIR=$dir
	REG_LOG=$dir/access.log
}

reg_mark() {
	wc -l <"$REG_LOG"
}

reg_since() {
	tail -n +"$(($1 + 1))" "$REG_LOG"
}

hostile_start() {
	local port
	port=$(free_port)
	HOSTILE_LOG=$T/hostile.log
	: >"$HOSTILE_LOG"
	bg python3 "$TOOLS/hostile_registry.py" "$port" --log "$HOSTILE_LOG" \
		--platform "$HOST_PLATFORM" "$@" 2>"$T/hostile.err"
	wait_http "http://127.0.0.1:$port/v2/" ||
		bail "hostile registry did not start: $(tail -n 3 "$T/hostile.err")"
	: >"$HOSTILE_LOG"
	HOSTILE=127.0.0.1:$port
}

mkimage() {
	python3 "$TOOLS/mkimage.py" "$@"
}

skopeo_push() {
	local dir=$1 tag=$2 dest=$3
	shift 3
	skopeo --policy "$T/containers/policy.json" copy -q \
		--dest-tls-verify=false "$@" "oci:$dir:$tag" "docker://$dest" ||
		bail "skopeo copy oci:$dir:$tag docker://$dest failed"
}

# skopeo_ SUBCOMMAND ARGS...: skopeo with the test policy.
skopeo_() {
	skopeo --policy "$T/containers/policy.json" "$@"
}

jget() {
	python3 "$TOOLS/jget.py" "$@"
}

storecheck() {
	python3 "$TOOLS/storecheck.py" "$@"
}

# short DIGEST: the 12 hex digits docker shows for a layer.
short() {
	local h=${1#*:}
	echo "${h:0:12}"
}

# same_output NAME WANT: the last `run` exited 0 and printed WANT on stdout,
# up to the order of the lines between the first and the last three (layers
# finish in any order).
same_output() {
	local name=$1 want=$2
	if [ "$RC" != 0 ]; then
		fail "$name" "exit $RC; stderr: $(head -c 300 <<<"$ERR")"
	elif [ "$(sort <<<"$want")" != "$(sort <<<"$OUT")" ] ||
		[ "$(head -n1 <<<"$want")" != "$(head -n1 <<<"$OUT")" ] ||
		[ "$(tail -n3 <<<"$want")" != "$(tail -n3 <<<"$OUT")" ]; then
		fail "$name" "stdout [$(tr '\n' '|' <<<"$OUT")], want [$(tr '\n' '|' <<<"$want")]"
	else
		ok "$name"
	fi
}

# store_consistent NAME STORE: every visible blob matches its name, index.json
# parses and its images are complete (checked without berth).
store_consistent() {
	local why
	if why=$(storecheck verify "$2" 2>&1); then
		ok "$1"
	else
		fail "$1" "$(head -c 400 <<<"$why" | tr '\n' '|')"
	fi
}
