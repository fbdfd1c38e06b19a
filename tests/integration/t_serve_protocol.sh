#!/usr/bin/env bash
# berth serve against the OCI distribution spec, spoken with curl: the pull,
# push, content discovery and content management workflows, and every error
# code with the status the spec requires.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

serve_start || { fail "serve starts" "see $T/serve.log"; exit 1; }
R=$SRV_URL

# expect_status NAME STATUS [OCI_CODE] -- METHOD URL [CURL ARGS...]
expect_status() {
	local name=$1 want=$2 code="" got
	shift 2
	if [ "$1" != "--" ]; then code=$1; shift; fi
	shift
	got=$(http_status "$@")
	if [ "$got" != "$want" ]; then
		fail "$name" "status $got, want $want; body: $(head -c 300 "$T/.body")"
		return 1
	fi
	if [ -n "$code" ] && ! grep -q "\"code\":\"$code\"" "$T/.body"; then
		fail "$name" "body lacks code $code: $(head -c 300 "$T/.body")"
		return 1
	fi
	ok "$name"
}

# expect_header NAME HEADER REGEX: on the last request.
expect_header() {
	local v
	v=$(last_header "$2")
	if grep -qE -- "$3" <<<"$v"; then ok "$1"; else fail "$1" "$2 is '$v', want /$3/"; fi
}

head -c 3000 /dev/urandom >"$T/small"
head -c 300000 /dev/urandom >"$T/chunky"
head -c 5000000 /dev/urandom >"$T/big"
SMALL=$(sha256_of "$T/small")
CHUNKY=$(sha256_of "$T/chunky")

# ---- base ----
expect_status "GET /v2/ answers 200" 200 -- GET "$R/v2/"
expect_header "GET /v2/ names the API version" Docker-Distribution-API-Version '^registry/2.0$'
expect_status "unknown endpoint is 404" 404 -- GET "$R/v3/"
expect_status "wrong method is 405 UNSUPPORTED" 405 UNSUPPORTED -- PATCH "$R/v2/"

# ---- push: monolithic POST ----
expect_status "monolithic POST ?digest= is 201" 201 -- POST "$R/v2/lib/a/blobs/uploads/?digest=$SMALL" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$T/small"
expect_header "monolithic POST gives the blob's Location" Location "^/v2/lib/a/blobs/$SMALL$"
expect_status "HEAD of the pushed blob is 200" 200 -- HEAD "$R/v2/lib/a/blobs/$SMALL" -I
expect_header "HEAD gives the blob's length" Content-Length '^3000$'
expect_header "HEAD gives Docker-Content-Digest" Docker-Content-Digest "^$SMALL$"
http_status GET "$R/v2/lib/a/blobs/$SMALL" >/dev/null
expect "GET returns the blob's bytes" cmp -s "$T/.body" "$T/small"

# ---- push: POST then PUT ----
expect_status "POST opens an upload with 202" 202 -- POST "$R/v2/lib/a/blobs/uploads/"
LOC=$(last_header Location)
expect_header "POST gives the upload Location" Location '^/v2/lib/a/blobs/uploads/[0-9a-f]+$'
expect_status "PUT with the whole blob closes it with 201" 201 -- PUT "$R$LOC?digest=$CHUNKY" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$T/chunky"
http_status GET "$R/v2/lib/a/blobs/$CHUNKY" >/dev/null
expect "POST+PUT blob reads back" cmp -s "$T/.body" "$T/chunky"

# ---- push: chunked PATCH with Content-Range ----
head -c 100000 "$T/chunky" >"$T/c1"
tail -c +100001 "$T/chunky" | head -c 100000 >"$T/c2"
tail -c +200001 "$T/chunky" >"$T/c3"
http_status POST "$R/v2/lib/chunked/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
expect_status "first chunk is 202" 202 -- PATCH "$R$LOC" -H 'Content-Range: 0-99999' \
	-H 'Content-Type: application/octet-stream' --data-binary "@$T/c1"
expect_header "first chunk's Range ends at 99999" Range '^0-99999$'
expect_status "out-of-order chunk is 416" 416 BLOB_UPLOAD_INVALID -- PATCH "$R$LOC" \
	-H 'Content-Range: 150000-249999' --data-binary "@$T/c2"
expect_header "416 carries the current Range" Range '^0-99999$'
expect_status "malformed Content-Range is 416" 416 -- PATCH "$R$LOC" \
	-H 'Content-Range: bytes=x-y' --data-binary "@$T/c2"
expect_status "GET on the upload is 204" 204 -- GET "$R$LOC"
expect_header "GET on the upload gives its offset" Range '^0-99999$'
expect_status "Content-Length disagreeing with Content-Range is SIZE_INVALID" 400 SIZE_INVALID -- \
	PATCH "$R$LOC" -H 'Content-Range: 100000-100009' --data-binary "@$T/c2"
expect_status "second chunk is 202" 202 -- PATCH "$R$LOC" -H 'Content-Range: 100000-199999' \
	--data-binary "@$T/c2"
expect_status "last chunk in the closing PUT is 201" 201 -- PUT "$R$LOC?digest=$CHUNKY" \
	-H 'Content-Range: 200000-299999' --data-binary "@$T/c3"
http_status GET "$R/v2/lib/chunked/blobs/$CHUNKY" >/dev/null
expect "chunked blob reads back" cmp -s "$T/.body" "$T/chunky"

# ---- push: streamed PATCH (chunked transfer, no Content-Range) ----
BIG=$(sha256_of "$T/big")
http_status POST "$R/v2/lib/stream/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
expect_status "streamed PATCH is 202" 202 -- PATCH "$R$LOC" -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/octet-stream' --data-binary "@$T/big"
expect_header "streamed PATCH's Range covers the stream" Range '^0-4999999$'
expect_status "empty closing PUT is 201" 201 -- PUT "$R$LOC?digest=$BIG"
http_status GET "$R/v2/lib/stream/blobs/$BIG" >/dev/null
expect "streamed blob reads back" cmp -s "$T/.body" "$T/big"
http_status POST "$R/v2/lib/stream/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
expect_status "a chunk that ends short of its Content-Range is SIZE_INVALID" 400 SIZE_INVALID -- \
	PATCH "$R$LOC" -H 'Transfer-Encoding: chunked' -H 'Content-Range: 0-9999' \
	--data-binary "@$T/small"
# A refused chunk leaves the session as it was, so the client's retry fits.
expect_status "the session holds nothing of the short chunk" 204 -- GET "$R$LOC"
expect_header "the refused short chunk left the Range at 0-0" Range '^0-0$'
expect_status "a chunk longer than its Content-Range is SIZE_INVALID" 400 SIZE_INVALID -- \
	PATCH "$R$LOC" -H 'Transfer-Encoding: chunked' -H 'Content-Range: 0-99' \
	--data-binary "@$T/small"
expect_status "the session holds nothing of the long chunk" 204 -- GET "$R$LOC"
expect_header "the refused long chunk left the Range at 0-0" Range '^0-0$'
expect_status "the retried chunk is 202" 202 -- PATCH "$R$LOC" \
	-H 'Transfer-Encoding: chunked' -H 'Content-Range: 0-2999' --data-binary "@$T/small"
expect_header "the retried chunk's Range ends at 2999" Range '^0-2999$'
expect_status "the session closes after the retry with 201" 201 -- PUT "$R$LOC?digest=$SMALL"

# ---- push: digests ----
http_status POST "$R/v2/lib/a/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
expect_status "wrong digest on PUT is 400 DIGEST_INVALID" 400 DIGEST_INVALID -- PUT "$R$LOC?digest=$SMALL" \
	--data-binary "@$T/c1"
expect_status "a failed upload is gone" 404 BLOB_UPLOAD_UNKNOWN -- GET "$R$LOC"
http_status POST "$R/v2/lib/a/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
expect_status "closing PUT without digest is 400 DIGEST_INVALID" 400 DIGEST_INVALID -- PUT "$R$LOC"
expect_status "malformed digest is 400 DIGEST_INVALID" 400 DIGEST_INVALID -- \
	POST "$R/v2/lib/a/blobs/uploads/?digest=sha256:1234" --data-binary "@$T/small"
expect_status "unsupported algorithm is 400 DIGEST_INVALID" 400 DIGEST_INVALID -- \
	GET "$R/v2/lib/a/blobs/md5:d41d8cd98f00b204e9800998ecf8427e"
S512="sha512:$(sha512sum "$T/small" | cut -d' ' -f1)"
expect_status "sha512 blob push is 201" 201 -- POST "$R/v2/lib/a/blobs/uploads/?digest=$S512" \
	--data-binary "@$T/small"
http_status GET "$R/v2/lib/a/blobs/$S512" >/dev/null
expect "sha512 blob reads back" cmp -s "$T/.body" "$T/small"
expect_header "sha512 blob's Docker-Content-Digest" Docker-Content-Digest "^$S512$"

# ---- uploads: cancel, unknown, other repository ----
http_status POST "$R/v2/lib/a/blobs/uploads/" >/dev/null
LOC=$(last_header Location)
http_status PATCH "$R$LOC" --data-binary "@$T/c1" >/dev/null
expect_status "DELETE cancels an upload with 204" 204 -- DELETE "$R$LOC"
expect_status "a cancelled upload is BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN -- PATCH "$R$LOC" \
	--data-binary "@$T/c1"
expect_status "an unknown upload id is BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN -- \
	GET "$R/v2/lib/a/blobs/uploads/0123456789abcdef0123456789abcdef"
http_status POST "$R/v2/lib/a/blobs/uploads/" >/dev/null
ID=$(last_header Location | sed 's|.*/||')
expect_status "an upload is unknown to another repository" 404 BLOB_UPLOAD_UNKNOWN -- \
	GET "$R/v2/lib/b/blobs/uploads/$ID"

# ---- pull: blobs ----
expect_status "a blob of another repository is BLOB_UNKNOWN" 404 BLOB_UNKNOWN -- GET "$R/v2/lib/b/blobs/$SMALL"
expect_status "Range GET is 206" 206 -- GET "$R/v2/lib/a/blobs/$SMALL" -H 'Range: bytes=10-19'
expect_header "206 has Content-Range" Content-Range '^bytes 10-19/3000$'
head -c 20 "$T/small" | tail -c 10 >"$T/range"
expect "Range GET returns those bytes" cmp -s "$T/.body" "$T/range"
expect_status "suffix Range is 206" 206 -- GET "$R/v2/lib/a/blobs/$SMALL" -H 'Range: bytes=-100'
expect_header "suffix Range covers the end" Content-Range '^bytes 2900-2999/3000$'
expect_status "Range past the end is 416" 416 -- GET "$R/v2/lib/a/blobs/$SMALL" -H 'Range: bytes=5000-'

# ---- cross-repository mount ----
expect_status "mount from a repository that has the blob is 201" 201 -- \
	POST "$R/v2/lib/mounted/blobs/uploads/?mount=$SMALL&from=lib/a"
expect_header "mount gives the blob's Location" Location "^/v2/lib/mounted/blobs/$SMALL$"
expect_status "mounted blob is readable" 200 -- HEAD "$R/v2/lib/mounted/blobs/$SMALL" -I
expect_status "mount from a repository without the blob starts an upload (202)" 202 -- \
	POST "$R/v2/lib/mounted2/blobs/uploads/?mount=$SMALL&from=lib/b"
expect_status "... and does not link the blob" 404 BLOB_UNKNOWN -- GET "$R/v2/lib/mounted2/blobs/$SMALL"
expect_status "mount without from finds a readable repository (201)" 201 -- \
	POST "$R/v2/lib/auto/blobs/uploads/?mount=$CHUNKY"
expect_status "automatically mounted blob is readable" 200 -- HEAD "$R/v2/lib/auto/blobs/$CHUNKY" -I

# ---- manifests ----
CFG=$T/config.json
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$CFG"
CFGD=$(push_blob lib/app "$CFG")
LAYD=$(push_blob lib/app "$T/chunky")
mkmanifest() { # mkmanifest FILE LAYER_DIGEST [EXTRA_JSON]
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":300000}]%s}' \
		"$CFGD" "$(stat -c %s "$CFG")" "$2" "${3:-}" >"$1"
}
mkmanifest "$T/m1.json" "$LAYD"
M1=$(sha256_of "$T/m1.json")
expect_status "manifest PUT by tag is 201" 201 -- PUT "$R/v2/lib/app/manifests/v1" \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$T/m1.json"
expect_header "manifest PUT gives Docker-Content-Digest" Docker-Content-Digest "^$M1$"
expect_header "manifest PUT gives the Location by digest" Location "^/v2/lib/app/manifests/$M1$"
expect_status "manifest GET by tag is 200" 200 -- GET "$R/v2/lib/app/manifests/v1"
expect "manifest GET returns the exact bytes" cmp -s "$T/.body" "$T/m1.json"
expect_header "manifest GET keeps the content type" Content-Type '^application/vnd.oci.image.manifest.v1\+json$'
expect_header "manifest GET gives Docker-Content-Digest" Docker-Content-Digest "^$M1$"
expect_status "manifest HEAD is 200" 200 -- HEAD "$R/v2/lib/app/manifests/v1" -I
expect_header "manifest HEAD gives the length" Content-Length "^$(stat -c %s "$T/m1.json")$"
expect_status "manifest GET by digest is 200" 200 -- GET "$R/v2/lib/app/manifests/$M1"
sed 's/"mediaType":"application\/vnd.oci.image.manifest.v1+json",//; s/application\/vnd.oci.image.config.v1+json/application\/vnd.docker.container.image.v1+json/; s/application\/vnd.oci.image.layer.v1.tar+gzip/application\/vnd.docker.image.rootfs.diff.tar.gzip/' \
	"$T/m1.json" >"$T/docker.json"
expect_status "Docker schema 2 manifest PUT is 201" 201 -- PUT "$R/v2/lib/app/manifests/docker" \
	-H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary "@$T/docker.json"
http_status GET "$R/v2/lib/app/manifests/docker" >/dev/null
expect_header "Docker manifest comes back with its own content type" Content-Type \
	'^application/vnd.docker.distribution.manifest.v2\+json$'

mkmanifest "$T/missing.json" "sha256:$(printf '%064d' 7)"
expect_status "manifest with a missing blob is MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/missing.json"
mkmanifest "$T/other.json" "$SMALL"
expect_status "manifest with a blob of another repository is MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/other.json"
expect_status "malformed JSON manifest is MANIFEST_INVALID" 400 MANIFEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary '{"schemaVersion":2,'
expect_status "manifest of an unknown media type is MANIFEST_INVALID" 400 MANIFEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.example.thing' \
	--data-binary '{"schemaVersion":2,"mediaType":"application/vnd.example.thing"}'
expect_status "schema 1 manifest is refused" 400 -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.docker.distribution.manifest.v1+json' \
	--data-binary '{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}'
# Descriptor sizes must match what is stored, config and layers alike.
sed "s/\"size\":$(stat -c %s "$CFG")}/\"size\":1000000000}/" "$T/m1.json" >"$T/cfgsize.json"
expect_status "a config descriptor of the wrong size is MANIFEST_INVALID" 400 MANIFEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/cfgsize.json"
expect "the refusal names the config descriptor" grep -q "$CFGD" "$T/.body"
sed 's/"size":300000}/"size":300001}/' "$T/m1.json" >"$T/laysize.json"
expect_status "a layer descriptor of the wrong size is MANIFEST_INVALID" 400 MANIFEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/bad" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/laysize.json"
expect "the refusal names the layer descriptor" grep -q "$LAYD" "$T/.body"
expect_status "a refused manifest left no tag behind" 404 MANIFEST_UNKNOWN -- GET "$R/v2/lib/app/manifests/bad"
python3 -c 'import json,sys; print(json.dumps({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"pad":"x"*(5<<20)}}))' >"$T/huge.json"
expect_status "manifest over 4 MiB is 413" 413 SIZE_INVALID -- PUT "$R/v2/lib/app/manifests/huge" \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$T/huge.json"
expect_status "manifest over 4 MiB streamed without length is 413" 413 -- PUT "$R/v2/lib/app/manifests/huge" \
	-H 'Transfer-Encoding: chunked' -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/huge.json"
expect_status "manifest PUT by a digest it does not have is DIGEST_INVALID" 400 DIGEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/$SMALL" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/m1.json"
expect_status "invalid tag on PUT is MANIFEST_INVALID" 400 MANIFEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/-bad" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$T/m1.json"
mkmanifest "$T/m2.json" "$LAYD" ',"annotations":{"n":"2"}'
M2=$(sha256_of "$T/m2.json")
expect_status "manifest PUT by digest with ?tag= is 201" 201 -- \
	PUT "$R/v2/lib/app/manifests/$M2?tag=t2&tag=t3" \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$T/m2.json"
if [ "$(grep -ci '^OCI-Tag:' "$T/.headers")" = 2 ]; then ok "?tag= answers one OCI-Tag per tag"; else fail "?tag= answers one OCI-Tag per tag" "$(grep -i '^OCI-Tag' "$T/.headers")"; fi
expect_status "a tag from ?tag= resolves" 200 -- GET "$R/v2/lib/app/manifests/t3"
expect "... to that manifest" cmp -s "$T/.body" "$T/m2.json"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}' \
	"$M1" "$(stat -c %s "$T/m1.json")" >"$T/index.json"
expect_status "index of present manifests is 201" 201 -- PUT "$R/v2/lib/app/manifests/multi" \
	-H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary "@$T/index.json"
sed "s/$M1/sha256:$(printf '%064d' 9)/" "$T/index.json" >"$T/index-bad.json"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}' \
	"$M1" "$(($(stat -c %s "$T/m1.json") + 1))" >"$T/index-size.json"
expect_status "index entry of the wrong size is MANIFEST_INVALID" 400 MANIFEST_INVALID -- \
	PUT "$R/v2/lib/app/manifests/multi2" -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	--data-binary "@$T/index-size.json"
expect "the refusal names the index entry" grep -q "$M1" "$T/.body"
expect_status "index of a missing manifest is MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN -- \
	PUT "$R/v2/lib/app/manifests/multi2" -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	--data-binary "@$T/index-bad.json"
expect_status "unknown tag is MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN -- GET "$R/v2/lib/app/manifests/nope"
expect_status "unknown repository is NAME_UNKNOWN" 404 NAME_UNKNOWN -- GET "$R/v2/lib/nope/manifests/v1"

# ---- content discovery: tags ----
http_status POST "$R/v2/lib/tags/blobs/uploads/?mount=$CFGD&from=lib/app" >/dev/null
http_status POST "$R/v2/lib/tags/blobs/uploads/?mount=$LAYD&from=lib/app" >/dev/null
for t in b a d c e; do put_manifest lib/tags "$t" "$T/m1.json" >/dev/null; done
expect_status "tags/list is 200" 200 -- GET "$R/v2/lib/tags/tags/list"
expect "tags are listed in order" test "$(last_body)" = '{"name":"lib/tags","tags":["a","b","c","d","e"]}'
expect_status "tags/list?n=2 is 200" 200 -- GET "$R/v2/lib/tags/tags/list?n=2"
expect "n=2 gives the first two" test "$(last_body)" = '{"name":"lib/tags","tags":["a","b"]}'
expect_header "n=2 gives a Link to the next page" Link '^</v2/lib/tags/tags/list\?n=2&last=b>; rel="next"$'
NEXT=$(last_header Link | sed 's/^<\(.*\)>.*/\1/')
http_status GET "$R$NEXT" >/dev/null
expect "the Link leads to the next two" test "$(last_body)" = '{"name":"lib/tags","tags":["c","d"]}'
http_status GET "$R/v2/lib/tags/tags/list?n=2&last=d" >/dev/null
expect "the last page has the rest" test "$(last_body)" = '{"name":"lib/tags","tags":["e"]}'
expect "the last page has no Link" test -z "$(last_header Link)"
http_status GET "$R/v2/lib/tags/tags/list?n=0" >/dev/null
expect "n=0 is an empty list without Link" test "$(last_body)$(last_header Link)" = '{"name":"lib/tags","tags":[]}'
expect_status "tags of an unknown repository is NAME_UNKNOWN" 404 NAME_UNKNOWN -- GET "$R/v2/lib/none/tags/list"

# ---- content discovery: catalog ----
http_status GET "$R/v2/_catalog" >/dev/null
expect "catalog lists repositories in order" python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))["repositories"]; sys.exit(not (r==sorted(r) and "lib/app" in r and "lib/tags" in r))' "$T/.body"
expect_status "catalog?n=1 is 200" 200 -- GET "$R/v2/_catalog?n=1"
expect_header "catalog paging gives a Link" Link '^</v2/_catalog\?n=1&last=lib/a>; rel="next"$'

# ---- content discovery: referrers ----
EMPTY='{}'
printf '%s' "$EMPTY" >"$T/empty.json"
ED=$(push_blob lib/app "$T/empty.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d},"annotations":{"org.example.kind":"sbom"}}' \
	"$ED" "$ED" "$M1" "$(stat -c %s "$T/m1.json")" >"$T/sbom.json"
SBOM=$(sha256_of "$T/sbom.json")
expect_status "artifact with a subject is 201" 201 -- PUT "$R/v2/lib/app/manifests/$SBOM" \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$T/sbom.json"
expect_header "PUT with a subject answers OCI-Subject" OCI-Subject "^$M1$"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.example.sig.config","digest":"%s","size":2},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d}}' \
	"$ED" "$M1" "$(stat -c %s "$T/m1.json")" >"$T/sig.json"
SIG=$(sha256_of "$T/sig.json")
put_manifest lib/app "$SIG" "$T/sig.json" >/dev/null
expect_status "referrers is 200" 200 -- GET "$R/v2/lib/app/referrers/$M1"
expect_header "referrers is an OCI index" Content-Type '^application/vnd.oci.image.index.v1\+json$'
expect "referrers lists both, with artifactType and annotations" python3 -c '
import json,sys
r=json.load(open(sys.argv[1])); m={d["digest"]:d for d in r["manifests"]}
ok = r["mediaType"]=="application/vnd.oci.image.index.v1+json" and len(m)==2 \
  and m[sys.argv[2]]["artifactType"]=="application/vnd.example.sbom" \
  and m[sys.argv[2]]["annotations"]=={"org.example.kind":"sbom"} \
  and m[sys.argv[3]]["artifactType"]=="application/vnd.example.sig.config"
sys.exit(not ok)' "$T/.body" "$SBOM" "$SIG"
expect_status "referrers with artifactType filter is 200" 200 -- \
	GET "$R/v2/lib/app/referrers/$M1?artifactType=application/vnd.example.sbom"
expect_header "filtered referrers say OCI-Filters-Applied" OCI-Filters-Applied '^artifactType$'
expect "the filter keeps only the sbom" python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); sys.exit([d["digest"] for d in r["manifests"]]!=[sys.argv[2]])' "$T/.body" "$SBOM"
http_status GET "$R/v2/lib/app/referrers/$SMALL" >/dev/null
expect "no referrers is an empty index" python3 -c '
import json,sys; sys.exit(json.load(open(sys.argv[1]))["manifests"]!=[])' "$T/.body"
expect_status "referrers of an invalid digest is 400" 400 DIGEST_INVALID -- GET "$R/v2/lib/app/referrers/sha256:zz"

# ---- content management ----
expect_status "DELETE of a tag is 202" 202 -- DELETE "$R/v2/lib/tags/manifests/a"
expect_status "the deleted tag is gone" 404 MANIFEST_UNKNOWN -- GET "$R/v2/lib/tags/manifests/a"
expect_status "the manifest stays after its tag is deleted" 200 -- GET "$R/v2/lib/tags/manifests/$M1"
expect_status "DELETE of an unknown tag is 404" 404 MANIFEST_UNKNOWN -- DELETE "$R/v2/lib/tags/manifests/a"
expect_status "DELETE of a manifest by digest is 202" 202 -- DELETE "$R/v2/lib/tags/manifests/$M1"
expect_status "the deleted manifest is gone" 404 MANIFEST_UNKNOWN -- GET "$R/v2/lib/tags/manifests/$M1"
expect_status "its tags are gone" 404 MANIFEST_UNKNOWN -- GET "$R/v2/lib/tags/manifests/b"
expect_status "another repository's copy stays" 200 -- GET "$R/v2/lib/app/manifests/v1"
expect_status "DELETE of a blob is 202" 202 -- DELETE "$R/v2/lib/mounted/blobs/$SMALL"
expect_status "the deleted blob is gone from that repository" 404 BLOB_UNKNOWN -- GET "$R/v2/lib/mounted/blobs/$SMALL"
expect_status "the blob stays in the others" 200 -- GET "$R/v2/lib/a/blobs/$SMALL"
expect_status "DELETE of an unknown blob is 404" 404 BLOB_UNKNOWN -- DELETE "$R/v2/lib/mounted/blobs/$SMALL"

# ---- hostile names ----
for n in 'a/../b' '../etc' 'UPPER' 'a//b' '-a' 'a..b' 'a__-b' 'a/./b' '%2e%2e/x' 'a/%2e%2e/%2e%2e/x'; do
	expect_status "name '$n' is NAME_INVALID" 400 NAME_INVALID -- POST "$R/v2/$n/blobs/uploads/" --path-as-is
done
LONG=$(printf 'a%.0s' $(seq 256))
expect_status "a 256-character name is NAME_INVALID" 400 NAME_INVALID -- GET "$R/v2/$LONG/tags/list"
expect_status "digest with dots in it is DIGEST_INVALID" 400 DIGEST_INVALID -- \
	GET "$R/v2/lib/a/blobs/sha256:..metadata.db" --path-as-is
expect_status "digest with an encoded path in it is one segment, DIGEST_INVALID" 400 DIGEST_INVALID -- \
	GET "$R/v2/lib/a/blobs/sha256:..%2F..%2Fmetadata.db" --path-as-is
expect "nothing was written outside the storage root" test -z "$(find "$T" -maxdepth 1 -newer "$T/small" -name 'etc' -o -maxdepth 1 -name x)"

# ---- concurrency: same blob and same tag from two clients at once ----
B1=$(sha256_of "$T/big")
(http_status POST "$R/v2/lib/race/blobs/uploads/?digest=$B1" --data-binary "@$T/big" >"$T/race1") &
RP1=$!
(SRV_CURL=(curl -s --max-time 60); "${SRV_CURL[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary "@$T/big" \
	"$R/v2/lib/race/blobs/uploads/?digest=$B1" >"$T/race2") &
RP2=$!
wait "$RP1" "$RP2"
expect "two concurrent pushes of one blob both succeed" test "$(cat "$T/race1") $(cat "$T/race2")" = "201 201"
http_status POST "$R/v2/lib/race/blobs/uploads/?mount=$CFGD&from=lib/app" >/dev/null
http_status POST "$R/v2/lib/race/blobs/uploads/?mount=$LAYD&from=lib/app" >/dev/null
TP=()
for i in 1 2 3 4; do
	(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$T/m$(( (i % 2) + 1 )).json" "$R/v2/lib/race/manifests/latest" >"$T/tag$i") &
	TP+=($!)
done
wait "${TP[@]}"
expect "four concurrent PUTs of one tag all succeed" test "$(cat "$T"/tag1 "$T"/tag2 "$T"/tag3 "$T"/tag4)" = "201201201201"
http_status GET "$R/v2/lib/race/manifests/latest" >/dev/null
expect "the tag points at one of them, intact" sh -c "cmp -s '$T/.body' '$T/m1.json' || cmp -s '$T/.body' '$T/m2.json'"
expect "every stored blob matches its digest" store_fsck "$SRV_STORAGE"

# ---- the access log ----
expect "the access log has one line per request" grep -qE '"PUT /v2/lib/app/manifests/v1" 201 0 [0-9.]+ms$' "$T/access.log"

serve_stop
expect "SIGTERM stops the server with status 0" test "$SRV_RC" = 0
done_testing
