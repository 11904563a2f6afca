#!/usr/bin/env bash
# A client's first steps against Latchkey's Syncano v1.1 API, with curl:
#   account login -> instance -> API key that may create users -> user -> login -> `user/`.
# Usage: examples/v1-walkthrough.sh [BASE_URL]   (default http://localhost:8080)
# The admin account comes from LATCHKEY_ADMIN_EMAIL / LATCHKEY_ADMIN_PASSWORD, as for the server.
set -euo pipefail
base=${1:-http://localhost:8080}
email=${LATCHKEY_ADMIN_EMAIL:?set LATCHKEY_ADMIN_EMAIL}
password=${LATCHKEY_ADMIN_PASSWORD:?set LATCHKEY_ADMIN_PASSWORD}
instance=${WALKTHROUGH_INSTANCE:-walkthrough-$RANDOM}

field() { python3 -c "import sys, json; print(json.load(sys.stdin)['$1'])"; }
post() { curl -sf -X POST "$base$1" -H 'Content-Type: application/json' "${@:3}" -d "$2"; }

echo "1. Log in as the administrator: POST /v1.1/account/auth/"
account_key=$(post /v1.1/account/auth/ "{\"email\": \"$email\", \"password\": \"$password\"}" | field account_key)

echo "2. Create an instance: POST /v1.1/instances/"
post /v1.1/instances/ "{\"name\": \"$instance\"}" -H "X-API-KEY: $account_key" > /dev/null

echo "3. Create an API key that may register users: POST api_keys/ {allow_user_create: true}"
api_key=$(post "/v1.1/instances/$instance/api_keys/" '{"allow_user_create": true}' \
  -H "X-API-KEY: $account_key" | field api_key)

echo "4. Register a user with that key: POST users/"
post "/v1.1/instances/$instance/users/" '{"username": "gordon", "password": "Black Mesa 1998"}' \
  -H "X-API-KEY: $api_key" > /dev/null

echo "5. Log the user in: POST user/auth/ -> user_key"
user_key=$(post "/v1.1/instances/$instance/user/auth/" \
  '{"username": "gordon", "password": "Black Mesa 1998"}' -H "X-API-KEY: $api_key" | field user_key)

echo "6. Read the user back with API key + user key: GET user/"
username=$(curl -sf "$base/v1.1/instances/$instance/user/" -H "X-API-KEY: $api_key" \
  -H "X-USER-KEY: $user_key" | field username)
[ "$username" = gordon ] || { echo "expected gordon, got $username" >&2; exit 1; }
echo "OK: $username is logged in to $instance"
