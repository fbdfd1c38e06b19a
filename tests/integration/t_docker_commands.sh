#!/usr/bin/env bash
# The commands of docker's documentation for pull, login, logout, push, tag,
# images, inspect and rmi, typed as the documentation types them (options
# before or after the operands, --opt=value and --opt value, short options,
# "--"), against docker-registry with htpasswd on 127.0.0.1.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
htpasswd -Bbc "$T/htpasswd" admin 'secret' 2>/dev/null
dreg_start --htpasswd "$T/htpasswd"
R=$DREG
mkimage "$T/src" --tag debian --seed dc-debian --layer 32k >"$T/debian.json"
mkimage "$T/src" --tag multi --platforms linux/amd64,linux/arm64 \
	--layer 16k --seed dc-multi >"$T/multi.json"
skopeo_push "$T/src" debian "$R/debian:latest" --dest-creds admin:secret
skopeo_push "$T/src" debian "$R/debian:jessie" --dest-creds admin:secret
skopeo_push "$T/src" debian "$R/testing/test-image:latest" --dest-creds admin:secret
skopeo_push "$T/src" multi "$R/multi:v1" --all --dest-creds admin:secret
debian=$(jget 'j["digest"]' "$T/debian.json")
arm64=$(jget '[i["digest"] for i in j["images"] if i["platform"] == "linux/arm64"][0]' "$T/multi.json")
auth=$(printf 'admin:secret' | base64)
stored() { jget "j['auths']['$R']['auth']" "$DOCKER_CONFIG/config.json" 2>/dev/null; }

# --- login ------------------------------------------------------------------
# docker login [OPTIONS] [SERVER]; the guides put the options after SERVER.
run berth_ login "$R" --username=admin --password=secret
check "login SERVER --username=admin --password=secret" 0 "^Login Succeeded$" \
	"WARNING! Using --password via the CLI is insecure"
same "login SERVER --username=... stored admin:secret" "$(stored)" "$auth"
run berth_ logout "$R"
check "logout SERVER" 0 "^Removing login credentials for $R$"
same "logout SERVER removed the entry" "$(stored)" ""

run berth_ login "$R" --username admin --password secret
check "login SERVER --username admin --password secret" 0 "^Login Succeeded$"
same "login SERVER --username admin ... stored admin:secret" "$(stored)" "$auth"
berth_ logout "$R" >/dev/null

run berth_ login -u admin -p secret "$R"
check "login -u admin -p secret SERVER" 0 "^Login Succeeded$"
same "login -u -p stored admin:secret" "$(stored)" "$auth"
berth_ logout "$R" >/dev/null

run berth_ login -uadmin -psecret "$R"
check "login -uadmin -psecret SERVER (values joined)" 0 "^Login Succeeded$"
same "login -uadmin -psecret stored admin:secret" "$(stored)" "$auth"
berth_ logout "$R" >/dev/null

# cat ~/my_password.txt | docker login --username foo --password-stdin
printf 'secret\n' >"$T/my_password.txt"
run sh -c "cat '$T/my_password.txt' | '$BERTH' login --username admin --password-stdin '$R'"
check "cat FILE | login --username admin --password-stdin SERVER" 0 "^Login Succeeded$"
same "--password-stdin stored admin:secret" "$(stored)" "$auth"
same "--password-stdin: no --password warning" "$(grep -c 'insecure' <<<"$ERR")" 0
berth_ logout "$R" >/dev/null
run sh -c "'$BERTH' login '$R' -u admin --password-stdin <'$T/my_password.txt'"
check "login SERVER -u admin --password-stdin <FILE" 0 "^Login Succeeded$"
same "login SERVER -u admin --password-stdin stored admin:secret" "$(stored)" "$auth"

run berth_ login "$R" --username=admin --password=wrong
check "login SERVER --username=admin --password=wrong: refused" 5 "login to '$R' as 'admin' failed"
same "a refused login keeps the stored entry" "$(stored)" "$auth"

# --- pull -------------------------------------------------------------------
run berth_ pull "$R/debian"
check "pull NAME (default tag)" 0 "^Using default tag: latest$" \
	"^latest: Pulling from debian$" "^Digest: $debian$" \
	"^Status: Downloaded newer image for $R/debian:latest$" "^$R/debian:latest$"
run berth_ pull "$R/debian:jessie"
check "pull NAME:TAG" 0 "^jessie: Pulling from debian$" "^Digest: $debian$" "^$R/debian:jessie$"
run berth_ pull "$R/debian@$debian"
check "pull NAME@DIGEST" 0 "^Digest: $debian$" "^$R/debian@$debian$"
run berth_ pull "$R/testing/test-image"
check "pull HOST:PORT/testing/test-image" 0 "^Status: Downloaded newer image for $R/testing/test-image:latest$"
run berth_ pull "$R/debian:jessie" --quiet
check "pull NAME:TAG --quiet prints the name only" 0 "^$R/debian:jessie$"
same "pull --quiet: one line" "$(grep -c . <<<"$OUT")" 1
run berth_ pull -q "$R/debian:jessie"
check "pull -q NAME:TAG" 0 "^$R/debian:jessie$"
same "pull -q: one line" "$(grep -c . <<<"$OUT")" 1

run berth_ pull "$R/multi:v1" --platform linux/arm64
check "pull NAME:TAG --platform linux/arm64" 0 "^Digest: sha256:" "^$R/multi:v1$"
run berth_ inspect "$R/multi:v1"
same "pull ... --platform linux/arm64 stored the arm64 image" \
	"$(jget 'j[0]["Architecture"]' <<<"$OUT" 2>&1):$(jget 'j[0]["Id"]' <<<"$OUT" 2>&1 | grep -c .)" "arm64:1"
run berth_ --root "$T/s2" pull --platform=linux/arm64 "$R/multi:v1"
check "pull --platform=linux/arm64 NAME:TAG" 0 "^$R/multi:v1$"
run berth_ --root "$T/s2" inspect "$R/multi:v1"
same "pull --platform=linux/arm64 stored the arm64 image" "$(jget 'j[0]["Architecture"]' <<<"$OUT" 2>&1)" arm64

# --- tag, images --------------------------------------------------------------
# docker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]
run berth_ tag "$R/debian" fedora/httpd:version1.0
check "tag NAME fedora/httpd:version1.0" 0
run berth_ tag "$R/debian:jessie" fedora/httpd:version1.0.test
check "tag NAME:TAG fedora/httpd:version1.0.test" 0
run berth_ tag "$R/debian:jessie" "$R/fedora/httpd:version1.0"
check "tag NAME:TAG myregistryhost:5000/fedora/httpd:version1.0" 0
run berth_ tag -- "$R/debian" "$R/myadmin/rhel-httpd:latest"
check "tag -- SOURCE TARGET" 0

run berth_ images
check "images" 0 "^REPOSITORY +TAG +DIGEST +SIZE *$" \
	"^docker.io/fedora/httpd +version1.0 +$debian " \
	"^docker.io/fedora/httpd +version1.0.test +$debian " \
	"^$R/debian +jessie +$debian "
run berth_ images fedora/httpd
check "images REPOSITORY" 0 "^REPOSITORY " "^docker.io/fedora/httpd +version1.0 " \
	"^docker.io/fedora/httpd +version1.0.test "
same "images REPOSITORY: the header and its two tags only" "$(grep -c . <<<"$OUT")" 3
run berth_ images fedora/httpd:version1.0
check "images REPOSITORY:TAG" 0 "^docker.io/fedora/httpd +version1.0 "
same "images REPOSITORY:TAG: the header and that tag only" "$(grep -c . <<<"$OUT")" 2
run berth_ images fedora/httpd -q
same "images REPOSITORY -q: the names only" "$RC:$OUT" \
	"0:docker.io/fedora/httpd:version1.0"$'\n'"docker.io/fedora/httpd:version1.0.test"
run berth_ images nosuch/repo
same "images REPOSITORY with no image: the header only" "$RC:$OUT" \
	"0:$(printf '%-40s  %-16s  %-71s  %s' REPOSITORY TAG DIGEST SIZE)"
run berth_ images a b
check "images with two repositories is a usage error" 2 "unexpected argument 'b'"

# --- inspect ------------------------------------------------------------------
run berth_ inspect fedora/httpd:version1.0
same "inspect NAME:TAG: the image's RepoTags" \
	"$RC:$(jget '"docker.io/fedora/httpd:version1.0" in j[0]["RepoTags"]' <<<"$OUT" 2>&1)" "0:true"
run berth_ inspect "$R/debian:jessie" --remote
check "inspect NAME:TAG --remote" 0 "$debian"
run berth_ inspect --remote "$R/multi:v1" --platform linux/arm64
check "inspect --remote NAME --platform linux/arm64" 0 "\"Architecture\": \"arm64\""

# --- push -----------------------------------------------------------------------
# docker tag rhel-httpd registry-host:5000/myadmin/rhel-httpd:latest
# docker push registry-host:5000/myadmin/rhel-httpd:latest
run berth_ push "$R/myadmin/rhel-httpd:latest"
check "push REGISTRY/NAME:TAG" 0 "^The push refers to repository \[$R/myadmin/rhel-httpd\]$" \
	"^latest: digest: $debian size: "
run skopeo_ inspect --tls-verify=false --creds admin:secret "docker://$R/myadmin/rhel-httpd:latest"
check "the pushed image is on the registry" 0 "\"Digest\": \"$debian\""

# --- rmi --------------------------------------------------------------------------
# docker rmi test1:latest; docker rmi localhost:5000/test/busybox@sha256:...
run berth_ rmi fedora/httpd:version1.0.test
check "rmi NAME:TAG" 0 "^Untagged: docker.io/fedora/httpd:version1.0.test$"
run berth_ images fedora/httpd -q
same "rmi NAME:TAG removed that name only" "$OUT" "docker.io/fedora/httpd:version1.0"
run berth_ rmi "$R/debian@$debian"
check "rmi NAME@DIGEST" 0 "^Untagged: $R/debian@$debian$"
run berth_ rmi -- "$R/debian:jessie" "$R/debian:latest"
check "rmi -- NAME NAME" 0 "^Untagged: $R/debian:jessie$" "^Untagged: $R/debian:latest$"
run berth_ images "$R/debian" -q
same "rmi -- NAME NAME removed both" "$RC:$OUT" "0:"
run berth_ rmi -f fedora/httpd:version1.0
check "rmi with an option berth lacks: a usage error naming it" 2 "^berth: unknown option '-f'$" \
	"^hint: see 'berth rmi --help'$"
run berth_ images fedora/httpd -q
same "the refused rmi removed nothing" "$OUT" "docker.io/fedora/httpd:version1.0"

# --- "--" ends the options ----------------------------------------------------------
run berth_ pull -- --platform
check "pull -- --platform: an operand, not an option" 3 "^berth: invalid reference '--platform'"
same "pull -- --platform: not read as a missing value" "$(grep -c 'needs a value' <<<"$ERR")" 0
run berth_ pull "$R/debian" -- --quiet
check "pull NAME -- --quiet: two operands" 2 "expected exactly one image reference"

# Options go anywhere whatever POSIXLY_CORRECT says, berth serve's as well.
run env POSIXLY_CORRECT=1 "$BERTH" pull "$R/debian:jessie" -q
same "POSIXLY_CORRECT=1 pull NAME -q: options still go anywhere" "$RC:$OUT" "0:$R/debian:jessie"
run berth_ serve --storage "$T/srv" stray --addr 127.0.0.1:1
check "serve with an operand among its options: refused, naming it" 2 \
	"^berth: unexpected argument 'stray'$" "^hint: see 'berth serve --help'$"
run berth_ serve --storage "$T/srv" -- --addr 127.0.0.1:1
check "serve -- --addr: after --, an operand" 2 "^berth: unexpected argument '--addr'$"

# --- logout -----------------------------------------------------------------------
run berth_ logout "$R"
check "logout SERVER (after the session)" 0 "^Removing login credentials for $R$"
run berth_ pull "$R/debian:latest"
check "after logout, a pull is refused" 5 "not logged in"

done_testing
