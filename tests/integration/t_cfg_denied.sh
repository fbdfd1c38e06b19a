#!/usr/bin/env bash
# Refusals a user meets every day, against real servers: logged in but
# without permission (403 from berth serve's policy), not logged in (401),
# and a registry name that does not resolve (DNS, answered by a resolver
# on 127.0.0.1 inside a private mount namespace: no query leaves the host).
. tests/integration/lib.sh
. tests/integration/registry.sh
. tests/integration/serve_lib.sh
. tests/integration/cfg_lib.sh

cfg_env
htpasswd -Bbc "$T/htpasswd" alice alice-pw >/dev/null 2>&1 &&
	htpasswd -Bb "$T/htpasswd" bob bob-pw >/dev/null 2>&1 ||
	bail "htpasswd failed"
cat >"$T/policy.json" <<'JSON'
{
  "rules": [
    { "repository": "team/**", "grant": { "alice": ["pull", "push"], "bob": ["pull"] } }
  ]
}
JSON
serve_start --auth htpasswd --htpasswd "$T/htpasswd" --policy "$T/policy.json" ||
	bail "berth serve did not start"
mkimage "$T/img" --tag v1 --layer 32k >/dev/null || bail "mkimage failed"
skopeo_push "$T/img" v1 "$SRV_HOST/team/app:v1" --dest-creds alice:alice-pw

# Not logged in: 401, with the remedy.
run berth_ pull "$SRV_HOST/team/app:v1"
check "anonymous pull: exit 5, 'not logged in', hint berth login" 5 \
	"not logged in" "$SRV_HOST" "hint: .*berth login $SRV_HOST"

# Logged in with pull only: pulling works, pushing is refused with 403.
run berth_ login -u bob -p bob-pw "$SRV_HOST"
check "bob logs in" 0 "Login Succeeded"
run berth_ pull "$SRV_HOST/team/app:v1"
check "bob may pull" 0 "Pull complete"
run berth_ tag "$SRV_HOST/team/app:v1" "$SRV_HOST/team/other:v1"
check "tag for a push" 0
run berth_ push "$SRV_HOST/team/other:v1"
check "bob may not push: exit 6 naming the permission and the repository" 6 \
	"lacks push permission on '$SRV_HOST/team/other'" "hint: .*(ask|access)"

# Outside every rule: logged in, no permission at all.
run berth_ pull "$SRV_HOST/private/app:v1"
check "pull of a repository bob has no rule for: exit 6" 6 "lacks pull permission" "$SRV_HOST/private/app"

# DNS: a name nothing resolves. The resolver is 127.0.0.1 (nothing listens
# on port 53 there), set for this one command in a private mount namespace.
if unshare --mount true 2>/dev/null; then
	echo "nameserver 127.0.0.1" >"$T/resolv.conf"
	run unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
		sh "$T/resolv.conf" "$BERTH" --root "$T/dns" pull registry.berth-test.invalid/a/b:v1
	check "a registry name that does not resolve: exit 8, 'cannot resolve'" 8 \
		"cannot resolve 'registry.berth-test.invalid'"
else
	echo "not ok - DNS failure: unshare --mount is not permitted here"
	_failed=$((_failed + 1))
fi

done_testing
