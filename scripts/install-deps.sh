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
	libyaml-dev
	libpq-dev postgresql
	faketime
	libsodium-dev
	libdpkg-dev python3-packaging
	libxml2-dev
	ceph-mon ceph-osd ceph-common radosgw uuid-runtime
	golang-go
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# npm (the tests' npm packages, scripts/install-node-tools.sh): Debian's,
# unless a Node.js with its own npm is installed already.
command -v npm >/dev/null || missing+=(npm)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# A second S3 implementation for tests/integration/t_serve_s3rver.sh.
command -v s3rver >/dev/null 2>&1 || $sudo npm install -g s3rver@3.7.1
