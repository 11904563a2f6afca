#!/usr/bin/env bash
# The SDK as a third-party author meets it: install Latchkey into a temporary prefix, build the
# three example plugins out of tree against that prefix only (find_package(Latchkey 2)), run the
# installed storage conformance suite on the example driver, install them into the prefix's
# plugin directory, start the *installed* host on configs naming them, and use them over HTTP
# (the OpenID Connect backend against the fake providers on loopback; the v1.1 API on the
# memory-store driver, which is refused with login-token).
#
#   tests/sdk/out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir=$(realpath "$1")
source_dir=$(realpath "$2")
work=$(mktemp -d /tmp/latchkey-sdk.XXXXXX)
host_pid=
fake_pid=
cleanup() {
  [ -z "$host_pid" ] || kill "$host_pid" 2>/dev/null || true
  [ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM # ctest's timeout: still clean up
fail() { echo "FAILED: $*" >&2; [ ! -f "$work/host.log" ] || tail -40 "$work/host.log" >&2; exit 1; }
# wait_for FILE PATTERN: up to 10 s for a line matching PATTERN in FILE.
wait_for() {
  for _ in $(seq 1 100); do
    grep -q "$2" "$1" 2>/dev/null && return
    sleep 0.1
  done
}

prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
[ -f "$prefix/lib/cmake/Latchkey/LatchkeyConfigVersion.cmake" ] || fail "no CMake package installed"

for example in oidc-userinfo machine-tokens memory-store audit-trail; do
  # Nothing of the source tree on the include path: only the prefix.
  cmake -S "$source_dir/examples/plugins/$example" -B "$work/build-$example" -G Ninja \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_CXX_COMPILER_LAUNCHER="$(command -v ccache || true)" >"$work/configure-$example.log" \
    || { cat "$work/configure-$example.log"; fail "configuring $example"; }
  cmake --build "$work/build-$example" >"$work/build-$example.log" 2>&1 \
    || { cat "$work/build-$example.log"; fail "building $example"; }
  cmake --install "$work/build-$example" >/dev/null
  [ -f "$prefix/lib/latchkey/plugins/latchkey-$example.so" ] || fail "$example not installed"
done
# The installed storage conformance suite, as its CMake function set it up for the driver.
ctest --test-dir "$work/build-memory-store" --output-on-failure >"$work/conformance.log" 2>&1 \
  || { cat "$work/conformance.log"; fail "memory-store fails the installed conformance suite"; }
grep -q "100% tests passed, 0 tests failed out of 1" "$work/conformance.log" \
  || { cat "$work/conformance.log"; fail "the conformance suite did not run"; }
# It fails a driver that lacks a facet it should have, and says which sections it skipped.
if LATCHKEY_CONFORMANCE_PLUGIN="$work/build-memory-store/latchkey-memory-store.so" \
  LATCHKEY_CONFORMANCE_SETTINGS=max_users=1000 \
  LATCHKEY_CONFORMANCE_FACETS=latchkey.storage.sessions \
  "$work/build-memory-store/memory-store-conformance" >"$work/conformance-missing.log" 2>&1; then
  fail "the conformance suite passed a driver without a facet it was told to expect"
fi
grep -q "skipped: the driver has no latchkey.storage.sessions" "$work/conformance-missing.log" \
  || { cat "$work/conformance-missing.log"; fail "no warning for a skipped facet"; }
# Another major version, older or newer, is refused by find_package (SameMajorVersion): a
# plugin written for SDK 1 must not build against SDK 2 by accident.
for major in 1 3; do
  mkdir -p "$work/major$major"
  cat >"$work/major$major/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(wants_major_$major LANGUAGES CXX)
find_package(Latchkey $major REQUIRED)
CMAKE
  if cmake -S "$work/major$major" -B "$work/major$major/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$work/major$major.log" 2>&1; then
    fail "find_package(Latchkey $major) succeeded against SDK 2"
  fi
  grep -q "version: 2\." "$work/major$major.log" ||
    fail "find_package(Latchkey $major) did not name the version"
done

# The fake OpenID Connect provider (the LinkedIn endpoints: userinfo and RFC 7662-style
# introspection with client_secret_post).
# It stops when its stdin closes: this script holds the FIFO open (read-write, so opening does
# not wait for a reader) until it exits; no other child inherits it (4>&-).
mkfifo "$work/fake.in"
exec 4<>"$work/fake.in"
/usr/bin/python3 "$source_dir/tests/support/fake_providers.py" --dir "$work/fake" \
  <"$work/fake.in" >"$work/fake.out" 2>"$work/fake.log" 4>&- &
fake_pid=$!
wait_for "$work/fake.out" '^port '
fake_port=$(sed -n 's/^port \([0-9]*\).*/\1/p' "$work/fake.out")
[ -n "$fake_port" ] || { cat "$work/fake.log"; fail "the fake provider did not start"; }
fake=http://127.0.0.1:$fake_port
control() { curl -sf -X POST "$fake/_control/$1" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
control apps '{"provider": "linkedin", "client_id": "sdk-app", "client_secret": "sdk-secret"}'
control tokens '{"provider": "linkedin", "token": "good-token", "app": "sdk-app",
                 "user": {"sub": "oidc-42", "email": "ada@example.com", "email_verified": true}}'
control tokens '{"provider": "linkedin", "token": "foreign-token", "app": "other-app",
                 "user": {"sub": "oidc-43"}}'

machine_token=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
machine_hash=$(printf %s "$machine_token" | sha256sum | cut -d' ' -f1)
cat >"$work/latchkey.yaml" <<YAML
server: {listen: "127.0.0.1:0"}
secrets: {key_file: secret.key}
storage: {driver: sqlite, path: latchkey.db}
mailer: {driver: outbox, dir: outbox}
admin: {email: admin@example.com, password: "admin password for sdk"}
auth:
  password: {argon2: {memory: 1MiB, iterations: 1}}
  machine-tokens:
    mount: /machine
    tokens:
      - {name: deployer, sha256: $machine_hash, scopes: [deploy]}
  social:
    oidc-userinfo:
      userinfo_url: $fake/linkedin/v2/userinfo
      introspection_url: $fake/linkedin/oauth/v2/introspectToken
      client_id: sdk-app
      client_secret: sdk-secret
      timeout: 2s
events:
  audit-trail: {path: audit.log}
YAML
# Their config checks, through the installed host's check-config.
cat >"$work/bad.yaml" <<YAML
secrets: {key_file: secret.key}
storage: {driver: sqlite, path: latchkey.db}
mailer: {driver: outbox, dir: outbox}
auth:
  password: {}
  machine-tokens:
    tokens:
      - {name: a, sha256: $machine_hash}
      - {name: a, sha256: $machine_hash}
  social:
    oidc-userinfo:
      userinfo_url: https://
      client_id:
      client_secret: s
      introspection_url: http://id.example.com/introspect
YAML
if "$prefix/bin/latchkey" check-config -c "$work/bad.yaml" >"$work/bad.out" 2>&1; then
  fail "check-config accepted a bad config"
fi
for expected in "auth.machine-tokens.tokens[1].name: names another token already" \
  "auth.machine-tokens.tokens[1].sha256: is the hash of another token already" \
  "auth.social.oidc-userinfo.userinfo_url: must be an http(s) URL with a host" \
  "auth.social.oidc-userinfo.client_id: must not be empty" \
  "auth.social.oidc-userinfo.introspection_url: must be an https URL"; do
  grep -qF -- "$expected" "$work/bad.out" || { cat "$work/bad.out"; fail "check-config: $expected"; }
done

# No plugins.paths: the installed host finds the plugins beside it.
"$prefix/bin/latchkey" plugins -c "$work/latchkey.yaml" >"$work/plugins.txt" \
  || { cat "$work/plugins.txt"; fail "latchkey plugins"; }
# The SDK column: the major.minor of the SDK the examples were built against (this tree's).
version_h=$source_dir/sdk/include/latchkey/version.hpp
sdk="$(sed -n 's/^#define LATCHKEY_SDK_VERSION_MAJOR //p' "$version_h")\.$(sed -n 's/^#define LATCHKEY_SDK_VERSION_MINOR //p' "$version_h")"
grep -Eq "^oidc-userinfo +social +1\.0\.0 +$sdk +yes" "$work/plugins.txt" || fail "plugins: oidc-userinfo"
grep -Eq "^machine-tokens +flow +1\.0\.0 +$sdk +yes" "$work/plugins.txt" || fail "plugins: machine-tokens"
grep -Eq "^audit-trail +event sink +1\.0\.0 +$sdk +yes" "$work/plugins.txt" || fail "plugins: audit-trail"
grep -q "posture: example; tokens checked to be this client's" "$work/plugins.txt" || fail "posture line"

# ...but not from a directory someone else could write to.
chmod g+w "$prefix/lib/latchkey/plugins"
if "$prefix/bin/latchkey" plugins -c "$work/latchkey.yaml" >"$work/untrusted.txt" 2>&1 &&
  grep -q "oidc-userinfo" "$work/untrusted.txt"; then
  fail "plugins were loaded from a group-writable directory"
fi
chmod g-w "$prefix/lib/latchkey/plugins"

# start_host CONFIG: the installed host on CONFIG in the background; sets $host_pid and $base.
start_host() {
  "$prefix/bin/latchkey" serve -c "$1" >"$work/host.out" 2>"$work/host.log" 4>&- &
  host_pid=$!
  wait_for "$work/host.out" "listening on"
  base=$(sed -n 's/^latchkey listening on //p' "$work/host.out")
  [ -n "$base" ] || fail "the installed host did not start on $1"
}
start_host "$work/latchkey.yaml"

json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
status() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }

account_key=$(curl -sf "$base/v1.1/account/auth/" -H 'Content-Type: application/json' \
  -d '{"email": "admin@example.com", "password": "admin password for sdk"}' | json '["account_key"]')
curl -sf "$base/v1.1/instances/" -H "X-API-KEY: $account_key" -H 'Content-Type: application/json' \
  -d '{"name": "sdk-demo"}' >/dev/null
api_key=$(curl -sf "$base/v1.1/instances/sdk-demo/api_keys/" -H "X-API-KEY: $account_key" \
  -H 'Content-Type: application/json' -d '{"allow_user_create": true}' | json '["api_key"]')

login() {
  status "$base/v1.1/instances/sdk-demo/user/auth/oidc-userinfo/" -H "X-API-KEY: $api_key" \
    -H 'Content-Type: application/json' -d "{\"access_token\": \"$1\"}"
}
[ "$(login good-token)" = 200 ] || { cat "$work/body"; fail "OIDC login"; }
[ "$(json '["username"]' <"$work/body")" = ada@example.com ] || fail "OIDC username"
first_id=$(json '["id"]' <"$work/body")
[ "$(login good-token)" = 200 ] && [ "$(json '["id"]' <"$work/body")" = "$first_id" ] \
  || fail "OIDC second login is another user"
[ "$(login foreign-token)" = 401 ] || fail "a token of another client was not refused"
[ "$(login never-issued)" = 401 ] || fail "an unknown token was not refused"

[ "$(status "$base/machine/whoami" -H "Authorization: Bearer $machine_token")" = 200 ] \
  || { cat "$work/body"; fail "machine token"; }
[ "$(json '["name"]' <"$work/body")" = deployer ] || fail "machine name"
[ "$(status "$base/machine/whoami" -H "Authorization: Bearer x$machine_token")" = 401 ] \
  || fail "a wrong machine token was not refused"
[ "$(status "$base/machine/whoami")" = 401 ] || fail "no token was not refused"
if grep -qF -- "$machine_token" "$work/host.log" "$work/host.out"; then
  fail "the machine token reached the log"
fi
# Any case of the scheme works (RFC 9110).
[ "$(status "$base/machine/whoami" -H "Authorization: bearer $machine_token")" = 200 ] \
  || fail "a lower-case Bearer scheme was refused"
# Its own metrics (SDK 2.5) are served with the host's, labelled with its name.
curl -sf "$base/metrics" >"$work/metrics.txt" || fail "GET /metrics"
for expected in 'latchkey_machine_tokens_checks_total{outcome="accepted",plugin="machine-tokens"} 2' \
  'latchkey_machine_tokens_checks_total{outcome="refused",plugin="machine-tokens"} 1'; do
  grep -qF -- "$expected" "$work/metrics.txt" || { cat "$work/metrics.txt"; fail "metrics: $expected"; }
done

kill -TERM "$host_pid"
wait "$host_pid" || fail "the host did not exit cleanly"
host_pid=
# The example event sink wrote what happened, the last events too (its destructor drains).
for expected in "account.logged_in user=1 client=" "user.created instance=" "user.logged_in instance="; do
  grep -q -- "$expected" "$work/audit.log" || { cat "$work/audit.log"; fail "audit trail: $expected"; }
done

# The example storage driver serves the v1.1 API...
mkdir -p "$work/memory"
cat >"$work/memory/latchkey.yaml" <<YAML
server: {listen: "127.0.0.1:0"}
secrets: {key_file: secret.key}
storage: {driver: memory-store}
mailer: {driver: outbox, dir: outbox}
admin: {email: admin@example.com, password: "admin password for sdk"}
auth:
  password: {argon2: {memory: 1MiB, iterations: 1}}
YAML
start_host "$work/memory/latchkey.yaml"
account_key=$(curl -sf "$base/v1.1/account/auth/" -H 'Content-Type: application/json' \
  -d '{"email": "admin@example.com", "password": "admin password for sdk"}' | json '["account_key"]')
curl -sf "$base/v1.1/instances/" -H "X-API-KEY: $account_key" -H 'Content-Type: application/json' \
  -d '{"name": "in-memory"}' >/dev/null || fail "memory-store: create an instance"
api_key=$(curl -sf "$base/v1.1/instances/in-memory/api_keys/" -H "X-API-KEY: $account_key" \
  -H 'Content-Type: application/json' -d '{"allow_user_create": true}' | json '["api_key"]')
[ "$(status "$base/v1.1/instances/in-memory/users/" -H "X-API-KEY: $api_key" \
  -H 'Content-Type: application/json' -d '{"username": "ada", "password": "ada password 1"}')" = 201 ] \
  || { cat "$work/body"; fail "memory-store: create a user"; }
user_key=$(json '["user_key"]' <"$work/body")
[ "$(status "$base/v1.1/instances/in-memory/user/" -H "X-API-KEY: $api_key" \
  -H "X-USER-KEY: $user_key")" = 200 ] || { cat "$work/body"; fail "memory-store: who is this"; }
[ "$(json '["username"]' <"$work/body")" = ada ] || fail "memory-store: the wrong user"
[ "$(status "$base/v1.1/instances/in-memory/user/auth/" -H "X-API-KEY: $api_key" \
  -H 'Content-Type: application/json' -d '{"username": "ada", "password": "ada password 1"}')" = 200 ] \
  || { cat "$work/body"; fail "memory-store: log in"; }
kill -TERM "$host_pid"
wait "$host_pid" || fail "the host did not exit cleanly on memory-store"
host_pid=

# ...and is refused, naming what it lacks, when the config needs more (login-token).
cat >>"$work/memory/latchkey.yaml" <<YAML
  login-token: {instance: in-memory}
YAML
if "$prefix/bin/latchkey" serve -c "$work/memory/latchkey.yaml" >"$work/refused.out" \
  2>"$work/refused.log" 4>&-; then
  fail "memory-store served login-token"
fi
grep -q 'storage driver "memory-store" (.*latchkey-memory-store.so) lacks the storage facet latchkey.storage.sessions, which plugin login-token needs' \
  "$work/refused.log" || { cat "$work/refused.log"; fail "memory-store: no clear refusal"; }
cat "$work/conformance.log" | grep -E "assertions|test cases|skipped" || true
echo "out-of-tree plugins: built, installed, conformance-checked, loaded and served"
