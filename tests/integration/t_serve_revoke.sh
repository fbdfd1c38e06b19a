#!/usr/bin/env bash
# berth serve watches its htpasswd file: a removed user or a changed
# password takes effect within seconds, without a restart, and the
# refresh (identity) and access tokens of the old entry stop working.
# A file that does not load keeps the users loaded before.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

# until_status WANT METHOD URL [CURL ARGS...]: waits (up to 60 s) until the
# request answers WANT; prints the last status.
until_status() {
	local want=$1 got n=600
	shift
	while :; do
		got=$(http_status "$@")
		[ "$got" = "$want" ] || [ $n -le 0 ] && break
		sleep 0.1
		n=$((n - 1))
	done
	echo "$got"
}

htpasswd -Bbc "$T/htpasswd" alice pw-alice 2>/dev/null
htpasswd -Bb "$T/htpasswd" bob pw-bob 2>/dev/null

# ---- htpasswd mode ----
serve_start --htpasswd "$T/htpasswd" ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
expect "alice signs in" test "$(http_status GET "$R/v2/" -u alice:pw-alice)" = 200
expect "bob signs in" test "$(http_status GET "$R/v2/" -u bob:pw-bob)" = 200

htpasswd -D "$T/htpasswd" alice 2>/dev/null
got=$(until_status 401 GET "$R/v2/" -u alice:pw-alice)
expect "a removed user is refused without a restart" test "$got" = 401
expect "the other user still signs in" test "$(http_status GET "$R/v2/" -u bob:pw-bob)" = 200
expect "the reload is logged" grep -q "htpasswd file '$T/htpasswd' reloaded" "$T/serve.log"

htpasswd -Bb "$T/htpasswd" bob pw-bob-new 2>/dev/null
got=$(until_status 200 GET "$R/v2/" -u bob:pw-bob-new)
expect "a changed password works without a restart" test "$got" = 200
expect "the old password is refused (even though it was cached)" \
	test "$(http_status GET "$R/v2/" -u bob:pw-bob)" = 401

cp "$T/htpasswd" "$T/htpasswd.good"
echo 'bob:{SHA}not-bcrypt' >"$T/htpasswd"
n=600
until grep -q "htpasswd file not reloaded" "$T/serve.log" || [ $n -le 0 ]; do sleep 0.1; n=$((n - 1)); done
expect "a broken htpasswd file is logged with its reason" \
	grep -q "htpasswd file not reloaded, the users loaded before stay: .*not bcrypt" "$T/serve.log"
expect "the users loaded before stay" \
	test "$(http_status GET "$R/v2/" -u bob:pw-bob-new)" = 200
serve_stop
expect "the server stops cleanly" test "$SRV_RC" = 0

# ---- token mode: refresh and access tokens are bound to the password ----
cp "$T/htpasswd.good" "$T/htpasswd"
htpasswd -Bb "$T/htpasswd" carol pw-carol 2>/dev/null
rm -f "$T/serve.log"
serve_start --auth token --htpasswd "$T/htpasswd" ||
	{ fail "serve starts with token auth" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
# login USER PASS: prints "REFRESH_TOKEN ACCESS_TOKEN"
login() {
	curl -s -X POST -d "grant_type=password&username=$1&password=$2&service=berth&client_id=t&access_type=offline&scope=registry:catalog:*" "$R/token" |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j.get("refresh_token",""), j["access_token"])' 2>/dev/null
}
refresh() {
	http_status POST "$R/token" -d "grant_type=refresh_token&refresh_token=$1&service=berth&client_id=t&scope=registry:catalog:*"
}
read -r RT_BOB AT_BOB < <(login bob pw-bob-new)
read -r RT_CAROL AT_CAROL < <(login carol pw-carol)
expect "bob's refresh token works" test "$(refresh "$RT_BOB")" = 200
expect "bob's access token works" \
	test "$(http_status GET "$R/v2/" -H "Authorization: Bearer $AT_BOB")" = 200
expect "carol's refresh token works" test "$(refresh "$RT_CAROL")" = 200

htpasswd -Bb "$T/htpasswd" bob pw-bob-third 2>/dev/null
got=$(until_status 401 POST "$R/token" -d "grant_type=refresh_token&refresh_token=$RT_BOB&service=berth&client_id=t")
expect "a refresh token of an old password stops working" test "$got" = 401
expect "an access token of an old password stops working" \
	test "$(http_status GET "$R/v2/" -H "Authorization: Bearer $AT_BOB")" = 401
expect "the refusal says why" grep -q "removed or changed password" "$T/.body"
read -r RT_BOB AT_BOB < <(login bob pw-bob-third)
expect "the new password buys a working refresh token" test "$(refresh "$RT_BOB")" = 200

htpasswd -D "$T/htpasswd" carol 2>/dev/null
got=$(until_status 401 POST "$R/token" -d "grant_type=refresh_token&refresh_token=$RT_CAROL&service=berth&client_id=t")
expect "a removed user's refresh token stops working" test "$got" = 401
expect "a removed user's access token stops working" \
	test "$(http_status GET "$R/v2/" -H "Authorization: Bearer $AT_CAROL")" = 401
expect "other users' refresh tokens keep working" test "$(refresh "$RT_BOB")" = 200
serve_stop

done_testing
