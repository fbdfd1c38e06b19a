#!/usr/bin/env bash
# config.json as docker keeps it: a symbolic link stays a link when berth
# login or logout writes (the file it points at gets the new contents,
# replaced atomically in its own directory), and a config.json holding
# credentials that other users can read earns one warning with the remedy.
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/cfg_lib.sh

cfg_env
htpasswd -Bbc "$T/htpasswd" alice 's3cret' 2>/dev/null
dreg_start --htpasswd "$T/htpasswd"
R=$DREG
mkimage "$T/img" --tag v1 --layer 8k --seed cfg-json >"$T/img.json"
skopeo_push "$T/img" v1 "$R/cj/app:v1" --dest-creds alice:s3cret
auth=$(printf 'alice:s3cret' | base64)
C=$DOCKER_CONFIG/config.json
mkdir -p "$T/dotfiles/docker"
leftovers() { find "$DOCKER_CONFIG" "$T/dotfiles" -name '*.tmp-*' | wc -l; }

# --- an absolute link to an existing file -----------------------------------------
echo '{"psFormat": "table {{.ID}}"}' >"$T/dotfiles/docker/config.json"
ln -s "$T/dotfiles/docker/config.json" "$C"
run berth_ login -u alice --password-stdin "$R" <<<"s3cret"
check "login through a linked config.json" 0 "^Login Succeeded$"
expect "config.json is still a link" test -L "$C"
same "the link still points where it did" "$(readlink "$C")" "$T/dotfiles/docker/config.json"
same "its target holds the credentials" "$(jget "j['auths']['$R']['auth']" "$T/dotfiles/docker/config.json")" "$auth"
same "its target kept its other keys" "$(jget "j['psFormat']" "$T/dotfiles/docker/config.json")" "table {{.ID}}"
same "its target is mode 0600" "$(stat -c %a "$T/dotfiles/docker/config.json")" 600
same "no temporary file is left beside the link or the target" "$(leftovers)" 0
run berth_ pull "$R/cj/app:v1"
check "pull with the credentials read through the link" 0 "Digest: sha256:"
same "a 0600 config.json: no warning" "$(grep -c 'other users can read' <<<"$ERR")" 0

run berth_ logout "$R"
check "logout through the link" 0 "^Removing login credentials for $R$"
expect "after logout config.json is still a link" test -L "$C"
same "the target lost the entry" "$(jget "'$R' in j.get('auths', {})" "$T/dotfiles/docker/config.json")" false

# --- a relative link to a link, and a link to a file not yet there ----------------------
rm "$C"
mkdir -p "$T/dotfiles/other"
ln -s ../other/real.json "$T/dotfiles/docker/chain.json"
ln -s ../dotfiles/docker/chain.json "$C"
run berth_ login -u alice -p s3cret "$R"
check "login through a relative link to a link to nothing yet" 0 "^Login Succeeded$"
expect "both links stay links" test -L "$C" -a -L "$T/dotfiles/docker/chain.json"
same "the last target was created with the credentials" \
	"$(jget "j['auths']['$R']['auth']" "$T/dotfiles/other/real.json")" "$auth"
same "the new target is mode 0600" "$(stat -c %a "$T/dotfiles/other/real.json")" 600
same "no temporary file is left" "$(leftovers)" 0

# --- credentials others can read ---------------------------------------------------
chmod 644 "$T/dotfiles/other/real.json"
run berth_ --root "$T/s2" pull "$R/cj/app:v1"
check "pull with a config.json others can read: works" 0 "Digest: sha256:"
same "and warns once, with the remedy" "$(grep 'other users can read' <<<"$ERR")" \
	"berth: warn: '$C' holds credentials and other users can read it: run 'chmod 600 $C'"
chmod 640 "$T/dotfiles/other/real.json"
run berth_ --root "$T/s3" pull "$R/cj/app:v1"
same "readable by the group: warns too" "$RC:$(grep -c 'other users can read' <<<"$ERR")" "0:1"
chmod 600 "$T/dotfiles/other/real.json"
run berth_ --root "$T/s4" pull "$R/cj/app:v1"
same "after chmod 600: no warning" "$RC:$(grep -c 'other users can read' <<<"$ERR")" "0:0"
rm "$C"
echo '{"psFormat": "table"}' >"$C"
chmod 644 "$C"
run berth_ --root "$T/s5" pull "$R/cj/app:v1"
same "a readable config.json without credentials: no warning" \
	"$(grep -c 'other users can read' <<<"$ERR")" 0

done_testing
