#!/usr/bin/env bash
# berth manifest create/annotate/inspect/push/rm against docker-registry
# and berth serve: two single-platform images (amd64 and arm64) in two
# repositories become one multi-platform tag, read back by skopeo, podman
# and berth pull; a Docker manifest list too; and every error case.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh

S=$T/store
B=("$BERTH" --root "$S")
OCI_INDEX=application/vnd.oci.image.index.v1+json
DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
# re STRING: STRING as a grep -E pattern matching itself.
re() { sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"; }

mkimage "$T/img" --tag amd --platform linux/amd64 --seed 11 >/dev/null
mkimage "$T/img" --tag arm --platform linux/arm64 --seed 12 >/dev/null
mkimage "$T/img" --tag armv7 --platform linux/arm/v7 --seed 13 >/dev/null
AMD_DIGEST=$(jget '[m["digest"] for m in j["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "amd"][0]' "$T/img/index.json")
ARM_DIGEST=$(jget '[m["digest"] for m in j["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "arm"][0]' "$T/img/index.json")

P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file)

# scenario LABEL HOST: the whole story against the registry at HOST.
scenario() {
	local L=$1 H=$2 list digest raw
	skopeo_push "$T/img" amd "$H/team/app:amd64"
	skopeo_push "$T/img" arm "$H/team/app-arm:arm64"
	skopeo_push "$T/img" armv7 "$H/team/app:armv7"
	list=$H/team/app:multi

	run "${B[@]}" manifest create "$list" "$H/team/app:amd64" "$H/team/app-arm:arm64"
	check "$L: manifest create" 0
	run "${B[@]}" manifest inspect "$list"
	check "$L: inspect the local list" 0 "\"mediaType\": \"$(re "$OCI_INDEX")\""
	same "$L: the entries keep their digests, in order" \
		"$(jget '[m["digest"] for m in j["manifests"]]' <<<"$OUT")" "$AMD_DIGEST"$'\n'"$ARM_DIGEST"
	same "$L: the platforms come from the configs" \
		"$(jget '[m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in j["manifests"]]' <<<"$OUT")" \
		"linux/amd64"$'\n'"linux/arm64"

	run "${B[@]}" manifest annotate "$list" "$H/team/app-arm:arm64" --variant v8 --os-features a,b
	check "$L: annotate the arm64 entry" 0
	run "${B[@]}" manifest inspect "$list" "$H/team/app-arm:arm64"
	check "$L: inspect LIST REF shows the annotated entry" 0 '"variant": "v8"' '"os.features"'

	: >"$ACCESS_LOG"
	run "${B[@]}" manifest push "$list"
	check "$L: manifest push prints the index digest" 0 '^sha256:[0-9a-f]{64}$'
	digest=$OUT
	# A mount is a POST answered 201 (an upload session is 202), and
	# nothing is uploaded.
	if [ "$(grep -cE 'POST /v2/team/app/blobs/uploads/[^ "]*( HTTP/[0-9.]+)?" 201' "$ACCESS_LOG")" = 2 ] &&
		! grep -qE 'PUT /v2/team/app/blobs/uploads/' "$ACCESS_LOG"; then
		ok "$L: the arm64 blobs were mounted from team/app-arm"
	else
		fail "$L: the arm64 blobs were mounted from team/app-arm" "no mount in $(grep -c . "$ACCESS_LOG") log lines"
	fi
	run skopeo_ inspect --raw --tls-verify=false "docker://$list"
	check "$L: skopeo reads the index back" 0
	raw=$OUT
	same "$L: pushed index digest is the printed one" \
		"sha256:$(printf '%s' "$raw" | sha256sum | cut -c1-64)" "$digest"
	same "$L: an OCI index of the two manifests, annotated" \
		"$(jget '[j["mediaType"]] + [m["digest"] + " " + m["platform"]["architecture"] + "/" + m["platform"].get("variant", "-") for m in j["manifests"]]' <<<"$raw")" \
		"$OCI_INDEX"$'\n'"$AMD_DIGEST amd64/-"$'\n'"$ARM_DIGEST arm64/v8"
	run skopeo_ inspect --raw --tls-verify=false "docker://$H/team/app@$ARM_DIGEST"
	check "$L: the arm64 manifest was copied into team/app by digest" 0
	same "$L: its bytes are unchanged" "sha256:$(printf '%s' "$OUT" | sha256sum | cut -c1-64)" "$ARM_DIGEST"

	rm -rf "$T/copy-$L"
	run skopeo_ copy --all -q --src-tls-verify=false "docker://$list" "oci:$T/copy-$L:multi"
	check "$L: skopeo copy --all to an oci: layout" 0
	for d in $AMD_DIGEST $ARM_DIGEST; do
		expect "$L: skopeo copied child $d" test -f "$T/copy-$L/blobs/sha256/${d#sha256:}"
	done

	run "${B[@]}" pull --platform linux/arm64 "$list"
	check "$L: berth pull --platform linux/arm64" 0
	run "${B[@]}" inspect "$list"
	check "$L: the pulled image is the arm64 one" 0 '"Architecture": "arm64"'
	run "${B[@]}" pull --platform linux/amd64 "$list"
	check "$L: berth pull --platform linux/amd64" 0
	run "${B[@]}" inspect "$list"
	check "$L: the pulled image is the amd64 one" 0 '"Architecture": "amd64"'

	run "${P[@]}" pull -q --tls-verify=false --arch arm64 "$list"
	check "$L: podman pull --arch arm64" 0
	run "${P[@]}" image inspect --format '{{.Architecture}} {{.Digest}}' "$list"
	check "$L: podman has the arm64 image" 0 "^arm64 "
	"${P[@]}" rmi -f "$list" >/dev/null 2>&1

	run "${B[@]}" manifest inspect "$list"
	check "$L: the local list stays after push" 0
	run "${B[@]}" manifest inspect --verbose "$list"
	check "$L: inspect -v on the local list names each entry's image" 0 "\"Ref\": \"$H/team/app-arm:arm64\""

	# --format docker, --amend, --purge.
	run "${B[@]}" manifest create --format docker "$H/team/app:dlist" "$H/team/app:amd64"
	check "$L: create --format docker" 0
	run "${B[@]}" manifest create "$H/team/app:dlist" "$H/team/app-arm:arm64"
	check "$L: create over an existing list is refused" 17 "exists already" "hint: .*--amend"
	run "${B[@]}" manifest create -a "$H/team/app:dlist" "$H/team/app-arm:arm64"
	check "$L: create -a (--amend) adds to it" 0
	run "${B[@]}" manifest push --purge "$H/team/app:dlist"
	check "$L: push --purge a Docker list" 0 '^sha256:'
	run skopeo_ inspect --raw --tls-verify=false "docker://$H/team/app:dlist"
	same "$L: a Docker manifest list of two" \
		"$(jget '[j["mediaType"], len(j["manifests"])]' <<<"$OUT")" "$DOCKER_LIST"$'\n'2
	run "${B[@]}" manifest inspect "$H/team/app:dlist"
	check "$L: --purge removed the local list; inspect asks the registry" 0 "$(re "$DOCKER_LIST")"
	run "${B[@]}" manifest inspect --verbose "$H/team/app:dlist"
	check "$L: inspect -v on a remote index shows each child" 0 "\"Ref\": \"$H/team/app@$ARM_DIGEST\"" '"Manifest": \{'


	# Two amends at once: each adds its entry, neither is lost.
	run "${B[@]}" manifest create "$H/team/app:both" "$H/team/app-arm:arm64"
	check "$L: create a list for two amends at once" 0
	run "${B[@]}" manifest annotate "$H/team/app:both" "$H/team/app-arm:arm64" --variant v8
	check "$L: annotate it before the amends" 0
	local p1 p2
	"${B[@]}" manifest create -a "$H/team/app:both" "$H/team/app:amd64" &
	p1=$!
	"${B[@]}" manifest create -a "$H/team/app:both" "$H/team/app:armv7" &
	p2=$!
	wait "$p1" && wait "$p2"
	RC=$? OUT= ERR=
	check "$L: two create --amend at once succeed" 0
	run "${B[@]}" manifest inspect -v "$H/team/app:both"
	same "$L: concurrent amends keep every entry" "$(jget 'sorted(e["Descriptor"]["platform"]["architecture"] for e in j)' <<<"$OUT")" \
		"amd64"$'\n'"arm"$'\n'"arm64"
	same "$L: the annotation made before them stays" "$(jget 'j[0]["Descriptor"]["platform"]["variant"]' <<<"$OUT")" v8
	run "${B[@]}" manifest rm "$H/team/app:both"
	check "$L: rm the list of two amends" 0

	# Errors.
	run "${B[@]}" manifest create "$H/team/app:bad" "$H/team/app:missing"
	check "$L: a REF that does not exist" 4 "team/app:missing" "hint: push the image first"
	run "${B[@]}" manifest create "$H/team/app:bad" "$list"
	check "$L: a REF that is an index is refused" 14 "is a manifest list" "hint: name its per-platform images"
	run "${B[@]}" manifest push "$H/team/app:nolist"
	check "$L: push of a list that does not exist" 4 "no local manifest list" "hint: create it with 'berth manifest create"
	run "${B[@]}" manifest annotate "$list" "$H/team/other:v1" --arch arm
	check "$L: annotate an unknown entry" 4 "has no entry" "hint: its entries are"
	run "${B[@]}" manifest annotate "$list" "$H/team/app-arm:arm64" --arch 'arm 64'
	check "$L: annotate refuses a platform that is not os/arch[/variant]" 2 "invalid platform 'linux/arm 64/v8'" "hint: "
	run "${B[@]}" manifest annotate "$list" "$H/team/app-arm:arm64" --os ''
	check "$L: annotate refuses to remove the os" 2 "would have no os"
	run "${B[@]}" manifest create "$H/team/app:dup" "$H/team/app:amd64" "$H/team/app-arm:arm64"
	check "$L: create a list to make a duplicate in" 0
	run "${B[@]}" manifest annotate "$H/team/app:dup" "$ARM_DIGEST" --arch amd64
	check "$L: annotate by digest" 0
	run "${B[@]}" manifest push "$H/team/app:dup"
	check "$L: two entries of one platform are refused" 2 "two entries for platform 'linux/amd64'" "hint: give one its own platform"
	run "${B[@]}" manifest rm "$H/team/app:dup" "$list"
	check "$L: manifest rm" 0
	run "${B[@]}" manifest inspect "$H/team/app:dup"
	check "$L: a removed list is gone (nor in the registry)" 4
}

registry_start
ACCESS_LOG=$REG_LOG scenario registry "$REG"

serve_start || bail "berth serve did not start"
ACCESS_LOG=$T/access.log scenario serve "$SRV_HOST"

# An entry in another registry than the list's is refused at push.
run "${B[@]}" manifest create "$SRV_HOST/team/app:cross" "$REG/team/app:amd64"
check "create a list with an image of another registry" 0
run "${B[@]}" manifest push "$SRV_HOST/team/app:cross"
check "push refuses an entry of another registry" 2 "is in registry '$REG', the list goes to '$SRV_HOST'" "hint: copy the image to"
run "${B[@]}" fsck
check "a local list beside the store leaves fsck content" 0
expect "the list is a file under ROOT/manifests/" test -f "$S/manifests/$(sed 's/:/%3A/g; s#/#%2F#g' <<<"$SRV_HOST/team/app:cross").json"

# A registry that refuses: berth serve with htpasswd and a policy where
# alice may only pull and bob may push.
SRV_STORAGE=$T/reg-auth
htpasswd -Bbc "$T/htpasswd" alice secret >/dev/null 2>&1
htpasswd -Bb "$T/htpasswd" bob other >/dev/null 2>&1
printf '{"rules": [{"repository": "team/*", "grant": {"alice": ["pull"], "bob": ["pull", "push"]}}]}' >"$T/policy.json"
serve_stop
serve_start --htpasswd "$T/htpasswd" --policy "$T/policy.json" || bail "berth serve --htpasswd did not start"
skopeo_push "$T/img" amd "$SRV_HOST/team/app:amd64" --dest-creds bob:other
run "${B[@]}" --docker-config "$T/nobody" manifest create "$SRV_HOST/team/app:x" "$SRV_HOST/team/app:amd64"
check "a registry that refuses without a login (401)" 5 "hint: .*login"
mkdir -p "$T/alice"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$SRV_HOST" "$(printf alice:secret | base64)" >"$T/alice/config.json"
chmod 600 "$T/alice/config.json"
run "${B[@]}" --docker-config "$T/alice" manifest create "$SRV_HOST/team/app:x" "$SRV_HOST/team/app:amd64"
check "alice may pull: create" 0
run "${B[@]}" --docker-config "$T/alice" manifest push "$SRV_HOST/team/app:x"
check "a registry that refuses the push (403)" 6 "pushing manifest list '$SRV_HOST/team/app:x'" "hint: "
run "${B[@]}" manifest inspect "$SRV_HOST/team/app:x"
check "the refused list is kept locally" 0
run "${B[@]}" manifest rm "$SRV_HOST/team/app:x"
check "rm the refused list" 0

# --insecure: berth serve over HTTPS with a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' \
	-addext 'subjectAltName=IP:127.0.0.1' -keyout "$T/tls.key" -out "$T/tls.crt" \
	>"$T/openssl.log" 2>&1 || bail "self-signed certificate: $(tail -n 3 "$T/openssl.log")"
serve_stop
SRV_STORAGE=$T/reg-tls
serve_start --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" || bail "berth serve over TLS did not start"
skopeo_push "$T/img" amd "$SRV_HOST/team/app:amd64"
mkdir -p "$T/certs.d"
BT=("$BERTH" --root "$S" --certs-d "$T/certs.d")
run "${BT[@]}" manifest create "$SRV_HOST/team/app:tls" "$SRV_HOST/team/app:amd64"
check "an unverified certificate is refused without --insecure" 9 "certificate"
run "${BT[@]}" manifest create --insecure "$SRV_HOST/team/app:tls" "$SRV_HOST/team/app:amd64"
check "create --insecure" 0
run "${BT[@]}" manifest push "$SRV_HOST/team/app:tls"
check "push without --insecure is refused" 9 "certificate"
run "${BT[@]}" manifest push --insecure "$SRV_HOST/team/app:tls"
check "push --insecure" 0 '^sha256:'
run "${BT[@]}" manifest rm "$SRV_HOST/team/app:tls"
check "rm the TLS list" 0
run "${BT[@]}" manifest inspect --insecure "$SRV_HOST/team/app:tls"
check "inspect --insecure reads the pushed index" 0 "\"mediaType\": \"$(re "$OCI_INDEX")\""

run "${B[@]}" manifest create --format xml "$REG/team/app:x" "$REG/team/app:amd64"
check "--format takes oci or docker" 2 "expected 'oci' or 'docker'"
run "${B[@]}" manifest frob
check "an unknown subcommand" 2 "unknown subcommand 'frob'"
run "${B[@]}" manifest create "$REG/team/app:x"
check "create needs a list and images" 2 "expected a list and at least one image"
done_testing
