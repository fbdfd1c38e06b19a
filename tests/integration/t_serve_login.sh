#!/usr/bin/env bash
# berth serve's logins: a wrong user name costs what a wrong password
# costs; failed logins are limited per user and per address (429 with
# Retry-After, in the audit log); and password checks run apart from the
# HTTP threads, so a flood of bad logins does not hold up other requests.
# No case depends on how fast the machine is: each compares numbers of
# the same run.
. tests/integration/lib.sh
. tests/integration/serve_lib.sh

# bcrypt cost 10, as `htpasswd -B -C 10` (and docker's guides) make it.
htpasswd -Bbc -C 10 "$T/htpasswd" alice pw-alice 2>/dev/null
htpasswd -Bb -C 10 "$T/htpasswd" bob pw-bob 2>/dev/null

# ---- the same cost for unknown users; logins off the HTTP threads ----
serve_start --htpasswd "$T/htpasswd" --login-limit unlimited \
	--login-limit-address unlimited --threads 2 ||
	{ fail "serve starts" "$(tail -n 3 "$T/serve.log")"; exit 1; }
expect "alice signs in" test "$(http_status GET "$SRV_URL/v2/" -u alice:pw-alice)" = 200

# Median times of 9 failures each, interleaved: known user, unknown user.
read -r known unknown < <(python3 - "$SRV_PORT" <<'PY'
import base64, http.client, statistics, sys, time
port = int(sys.argv[1])
def fail_time(user):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"Authorization": "Basic " + base64.b64encode(f"{user}:wrong".encode()).decode()}
    t = time.monotonic()
    c.request("GET", "/v2/", headers=h)
    r = c.getresponse(); r.read()
    assert r.status == 401, r.status
    return time.monotonic() - t
k, u = [], []
for i in range(9):
    k.append(fail_time("bob"))
    u.append(fail_time("nobody%d" % i))
print(statistics.median(k), statistics.median(u))
PY
)
expect "failures were timed" test -n "$known" -a -n "$unknown"
expect "an unknown user's failure costs about what a known user's does ($unknown s vs $known s)" \
	python3 -c "import sys; k, u = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (u > k / 2 and u < k * 2))" "$known" "$unknown"

# 32 connections send bad logins without pause; meanwhile 7 requests of a
# signed-in user (credentials checked before, so no bcrypt of their own)
# are timed in failed logins answered while each was waiting. With bcrypt
# on the HTTP threads each waits behind the bcrypts of its event loop
# (some 16 here); off them, behind none.
read -r between statuses < <(python3 - "$SRV_PORT" <<'PY'
import base64, http.client, statistics, sys, threading, time
port = int(sys.argv[1])
done, stop, lock = 0, False, threading.Lock()
def auth(u, p):
    return {"Authorization": "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode()}
def flood(i):
    global done
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    while not stop:
        c.request("GET", "/v2/", headers=auth("guess%d" % i, "wrong"))
        r = c.getresponse(); r.read()
        with lock:
            done += 1
ts = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(32)]
for t in ts:
    t.start()
deadline = time.monotonic() + 300
while done < 64 and time.monotonic() < deadline:
    time.sleep(0.05)
between, statuses = [], set()
for k in range(7):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    before = done
    c.request("GET", "/v2/", headers=auth("alice", "pw-alice"))
    r = c.getresponse(); r.read()
    between.append(done - before)
    statuses.add(r.status)
    c.close()
    time.sleep(0.1)
stop = True
print(statistics.median(between), ",".join(map(str, sorted(statuses))))
PY
)
same "the signed-in user's requests succeed during the flood" "$statuses" 200
expect "they wait for almost no failed login (median $between answered meanwhile)" \
	python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 6)" "$between"

# SIGTERM while checks are queued: they are run and their requests resumed
# before the daemon stops (it must never stop with a request suspended).
cat >"$T/flood.py" <<'PY'
import base64, http.client, sys, threading
port, mark = int(sys.argv[1]), sys.argv[2]
n, lock = 0, threading.Lock()
def flood(i):
    global n
    hdr = {"Authorization": "Basic " + base64.b64encode(b"g%d:wrong" % i).decode()}
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            c.request("GET", "/v2/", headers=hdr)
            c.getresponse().read()
            with lock:
                n += 1
                if n == 64:
                    open(mark, "w").write("64\n")
    except Exception:
        pass  # the server went away: the point of the test
ts = [threading.Thread(target=flood, args=(i,)) for i in range(32)]
for t in ts:
    t.start()
for t in ts:
    t.join()
PY
bg python3 "$T/flood.py" "$SRV_PORT" "$T/flood.mark"
expect "a second flood is under way" wait_for 300 test -s "$T/flood.mark"
serve_stop
expect "SIGTERM in the middle of a login flood stops it cleanly" test "$SRV_RC" = 0

# ---- failed logins limited per user and per address ----
rm -f "$T/serve.log"
serve_start --auth token --htpasswd "$T/htpasswd" --login-limit 3/1m \
	--login-limit-address 5/1m --audit-log "$T/audit.log" ||
	{ fail "serve starts with login limits" "$(tail -n 3 "$T/serve.log")"; exit 1; }
R=$SRV_URL
tokq="service=berth&scope=repository:x/y:pull"
expect "bob signs in" test "$(http_status GET "$R/token?$tokq" -u bob:pw-bob)" = 200
codes=
for i in 1 2 3; do codes="$codes $(http_status GET "$R/token?$tokq" -u alice:wrong$i)"; done
same "three wrong passwords are 401" "$codes" " 401 401 401"
got=$(http_status GET "$R/token?$tokq" -u alice:wrong4)
expect "the fourth is 429" test "$got" = 429
ra=$(last_header Retry-After)
expect "with a Retry-After of at most a third of the window ($ra)" \
	test "$ra" -ge 1 -a "$ra" -le 21
expect "the answer says why" grep -q "too many failed logins for user 'alice'" "$T/.body"
expect "even the right password waits (no guessing on)" \
	test "$(http_status GET "$R/token?$tokq" -u alice:pw-alice)" = 429
expect "POST /token is limited alike" \
	test "$(http_status POST "$R/token" -d "grant_type=password&username=alice&password=pw-alice&service=berth")" = 429
expect "the refusal is in the audit log" \
	grep -q '"action":"login".*too many failed logins.*"status":429' "$T/audit.log"
expect "and in the server log" grep -q "login of 'alice' from 127.0.0.1 refused" "$T/serve.log"
expect "another user is not affected" \
	test "$(http_status GET "$R/token?$tokq" -u bob:pw-bob)" = 200
codes=
for i in 1 2; do codes="$codes $(http_status GET "$R/token?$tokq" -u carol$i:wrong)"; done
same "failures of other names count against the address" "$codes" " 401 401"
got=$(http_status GET "$R/token?$tokq" -u dave:wrong)
expect "the sixth failure from the address is 429" test "$got" = 429
expect "naming the address" grep -q "too many failed logins from 127.0.0.1" "$T/.body"
expect "credentials checked good before still pass" \
	test "$(http_status GET "$R/token?$tokq" -u bob:pw-bob)" = 200
serve_stop

done_testing
