#!/usr/bin/env bash
# Installs every Debian 12 package berth needs to build, test and benchmark.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

pkgs=(
	build-essential g++ pkg-config
	libcurl4-openssl-dev libssl-dev libjansson-dev libarchive-dev libgnutls28-dev
	zlib1g-dev libzstd-dev libisal-dev libmicrohttpd-dev libsqlite3-dev libcrypt-dev
	openssl curl ca-certificates python3 iproute2 valgrind clang clang-format libclang-rt-14-dev
	isal docker-registry skopeo umoci podman apache2-utils wrk time zsh man-db groff-base
	e2fsprogs mount stress-ng prometheus
	docker.io containerd runc
	zstd tar
	jq
	faketime
	golang-go
)
# npm for the SBOM peers (scripts/install-node-tools.sh); a nodejs from
# elsewhere may bring its own.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
