#!/usr/bin/env bash
# berth serve with real clients: skopeo pushes, pulls, copies across
# repositories (blob mounts), lists and deletes; berth's own client pulls and
# pushes; podman too when it is installed.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

serve_start || { fail "serve starts" "see $T/serve.log"; exit 1; }
H=$SRV_HOST

M1=$(make_layout "$T/img" v1 1 1000 300000 2000000)
M2=$(make_layout "$T/img" v2 2 5000 70000)

run sk copy --dest-tls-verify=false "oci:$T/img:v1" "docker://$H/team/app:v1"
check "skopeo pushes an image" 0
run sk copy --dest-tls-verify=false "oci:$T/img:v2" "docker://$H/team/app:v2"
check "skopeo pushes a second tag" 0
run sk inspect --tls-verify=false "docker://$H/team/app:v1"
check "skopeo inspects it" 0 "\"Digest\": \"$M1\""
run sk list-tags --tls-verify=false "docker://$H/team/app"
check "skopeo lists its tags" 0 '"v1"' '"v2"'
run sk copy --src-tls-verify=false "docker://$H/team/app:v1" "oci:$T/out:v1"
check "skopeo pulls it back" 0
expect "every pulled blob is one that was pushed" test -z "$(comm -23 <(blob_names "$T/out") <(blob_names "$T/img"))"
expect "the pulled manifest is byte-identical" cmp -s "$T/out/blobs/sha256/${M1#sha256:}" "$T/img/blobs/sha256/${M1#sha256:}"

MARK=$(wc -l <"$T/access.log")
run sk copy --src-tls-verify=false --dest-tls-verify=false "docker://$H/team/app:v1" "docker://$H/other/app:v1"
check "skopeo copies between repositories" 0
expect "the copy mounted blobs instead of uploading them" \
	grep -qE '"POST /v2/other/app/blobs/uploads/" 201 ' <(tail -n +"$((MARK + 1))" "$T/access.log")
run sk inspect --tls-verify=false "docker://$H/other/app:v1"
check "the copy is complete" 0 "\"Digest\": \"$M1\""

run sk delete --tls-verify=false "docker://$H/team/app:v2"
check "skopeo deletes a manifest" 0
run sk inspect --tls-verify=false "docker://$H/team/app:v2"
check "the deleted manifest is gone" 1 'manifest unknown'
run sk inspect --tls-verify=false "docker://$H/team/app:v1"
check "the other tag stays" 0 "\"Digest\": \"$M1\""

# berth's own client, when this build has it.
if "$BERTH" pull --help >/dev/null 2>&1; then
	S=$T/store
	run "$BERTH" --root "$S" pull -q "$H/team/app:v1"
	check "berth pulls from berth serve" 0
	run "$BERTH" --root "$S" tag "$H/team/app:v1" "$H/berth/pushed:v1"
	check "berth tags for a push" 0
	run "$BERTH" --root "$S" push "$H/berth/pushed:v1"
	check "berth pushes to berth serve" 0
	run sk inspect --tls-verify=false "docker://$H/berth/pushed:v1"
	check "skopeo sees what berth pushed" 0 "\"Digest\": \"$M1\""
else
	echo "# this berth build has no pull command: client cases not run"
fi

# podman, when it is installed (it is not part of the required packages).
if command -v podman >/dev/null 2>&1; then
	P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver vfs
		--cgroup-manager cgroupfs --events-backend file)
	run "${P[@]}" pull --tls-verify=false "$H/team/app:v1"
	check "podman pulls from berth serve" 0
	run "${P[@]}" push --tls-verify=false "$H/team/app:v1" "$H/podman/app:v1"
	check "podman pushes to berth serve" 0
	run sk inspect --tls-verify=false "docker://$H/podman/app:v1"
	check "skopeo sees what podman pushed" 0 '"Name"'
else
	echo "# podman is not installed: podman cases not run"
fi

expect "every stored blob matches its digest" store_fsck "$SRV_STORAGE"
serve_stop
done_testing
