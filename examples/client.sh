#!/bin/sh
# A client of `inmail serve` in plain curl: what an app in any language does over HTTP.
#
#   inmail serve &                 # in another shell (add --token-file F to require a token)
#   sh examples/client.sh          # INMAIL_URL, INMAIL_TOKEN and ACCOUNT change its defaults
#
# It runs on any store, as often as you like: each run takes a new account name
# (`alice-<time>-<pid>`) unless ACCOUNT names one, and its keys are made from that name.
#
# Every call is a POST of JSON; the answer names the rule that decided, the requirement it
# implements and the policy revision. A retry under the same Idempotency-Key gets the first
# answer again (header `Idempotent-Replayed: true`) and changes nothing.
set -eu

URL="${INMAIL_URL:-http://127.0.0.1:8700}"
ACCOUNT="${ACCOUNT:-alice-$(date +%s)-$$}"
AUTH=""
if [ -n "${INMAIL_TOKEN:-}" ]; then AUTH="Authorization: Bearer $INMAIL_TOKEN"; fi

call() {  # call METHOD PATH [JSON [IDEMPOTENCY-KEY]]: print the answer's status, headers and body
    curl -sS -i -X "$1" "$URL$2" -H "Content-Type: application/json" ${AUTH:+-H "$AUTH"} \
        ${4:+-H "Idempotency-Key: $4"} ${3:+-d "$3"}
    echo
}

echo "== subscribe $ACCOUNT to Career (409 account_exists if ACCOUNT named one already there)"
call POST "/v1/accounts/$ACCOUNT/subscribe" '{"plan": "career"}'

echo "== may $ACCOUNT InMail carol? (key send-1)"
call POST "/v1/accounts/$ACCOUNT/send" '{"to": "carol"}' "$ACCOUNT-send-1"

echo "== the same call again: the first answer, nothing spent twice"
call POST "/v1/accounts/$ACCOUNT/send" '{"to": "carol"}' "$ACCOUNT-send-1"

echo "== the balance and the lots behind it"
call GET "/v1/accounts/$ACCOUNT/balance"

echo "== a refusal: application/problem+json with a stable code"
call POST "/v1/accounts/$ACCOUNT/purchase" '{"credits": 0}'
