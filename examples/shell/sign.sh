#!/usr/bin/env bash
# Sign a request for the internalauth middleware with openssl and send it
# with curl over mutual TLS.
#
# Usage: sign.sh [-p] METHOD URL [BODY_FILE] [-- CURL_ARGS...]
#
#   -p          print the Content-Digest, Signature-Input and Signature
#               headers instead of sending the request
#   METHOD      HTTP method, such as GET or POST
#   URL         https URL, already percent-encoded
#   BODY_FILE   file sent byte for byte as the body (default: no body)
#   CURL_ARGS   extra curl arguments, such as --resolve HOST:PORT:ADDRESS
#
# Environment:
#   INTERNALAUTH_KEY_ID        key id, as keys[].id in the middleware
#   INTERNALAUTH_KEY_FILE      file holding the HMAC key
#   INTERNALAUTH_KEY_ENCODING  raw (default), base64 or hex, as keys[].encoding
#   INTERNALAUTH_CACERT        CA that verifies the server (curl's --cacert)
#   INTERNALAUTH_CERT          client certificate (curl's --cert)
#   INTERNALAUTH_KEY           client certificate's private key (curl's --key)
#
# The signature covers "@method" "@authority" "@path" "@query" and
# "content-digest", with created, nonce, keyid and alg parameters, as the
# middleware requires by default.
#
# NOTE: openssl takes the HMAC key as a -macopt argument, so other users of
# this host can read it in the process list while openssl runs. On a shared
# host use internalauth sign or sign.py, which read the key from a file.
set -euo pipefail

fail() {
	echo "sign.sh: $*" >&2
	exit 2
}

print_only=false
if [[ ${1:-} == -p ]]; then
	print_only=true
	shift
fi

[[ $# -ge 2 ]] || fail "usage: sign.sh [-p] METHOD URL [BODY_FILE] [-- CURL_ARGS...]"

method=$1
url=$2
shift 2

body_file=
if [[ $# -gt 0 && $1 != -- ]]; then
	body_file=$1
	shift
fi

if [[ ${1:-} == -- ]]; then
	shift
fi

key_id=${INTERNALAUTH_KEY_ID:?set INTERNALAUTH_KEY_ID to the key id configured in the middleware}
key_file=${INTERNALAUTH_KEY_FILE:?set INTERNALAUTH_KEY_FILE to the file holding the HMAC key}
key_encoding=${INTERNALAUTH_KEY_ENCODING:-raw}

[[ $method =~ ^[A-Za-z]+$ ]] || fail "invalid method '$method': use a method name such as GET or POST"
[[ $key_id =~ ^[\ -~]+$ && $key_id != *[\"\\]* ]] ||
	fail "invalid key id '$key_id': use printable ASCII without quotes or backslashes"
[[ -r $key_file ]] || fail "cannot read the key file '$key_file'"
[[ -z $body_file || -r $body_file ]] || fail "cannot read the body file '$body_file'"

# Split the URL into the components the signature covers. @authority is
# the lowercase host, without :443; @query keeps a lone "?" when the URL
# has no query.
[[ $url == https://* ]] || fail "invalid URL '$url': use https, the middleware accepts mutual TLS only"
rest=${url#https://}
rest=${rest%%#*}
authority=${rest%%[/?]*}
target=${rest:${#authority}}
authority=${authority,,}
authority=${authority%:443}
path=${target%%\?*}
path=${path:-/}
query='?'
if [[ $target == *\?* ]]; then
	query="?${target#*\?}"
fi
[[ -n $authority && $authority != *@* ]] || fail "invalid URL '$url': give a host name, without user information"

# Decode the key to hex for openssl. A raw key loses one trailing line
# break, as the middleware reads secretFile.
case $key_encoding in
raw)
	key_hex=$(od -An -v -tx1 "$key_file" | tr -d ' \n')
	key_hex=${key_hex%0a}
	key_hex=${key_hex%0d}
	;;
base64)
	key_b64=$(tr -d ' \t\r\n' <"$key_file" | tr '_-' '/+')
	while ((${#key_b64} % 4)); do key_b64+='='; done
	key_hex=$(printf '%s' "$key_b64" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
	;;
hex)
	key_hex=$(tr -d ' \t\r\n' <"$key_file" | tr 'A-F' 'a-f')
	[[ $key_hex =~ ^([0-9a-f]{2})+$ ]] || fail "the key file '$key_file' is not valid hex"
	;;
*)
	fail "invalid INTERNALAUTH_KEY_ENCODING '$key_encoding': use raw, base64 or hex"
	;;
esac
((${#key_hex} >= 64)) || fail "the key is $((${#key_hex} / 2)) bytes, the middleware requires at least 32: check INTERNALAUTH_KEY_ENCODING"

# Content-Digest (RFC 9530) of the exact body bytes, empty without a body.
if [[ -n $body_file ]]; then
	body_sha256=$(openssl dgst -sha256 -binary <"$body_file" | openssl base64 -A)
else
	body_sha256=$(printf '' | openssl dgst -sha256 -binary | openssl base64 -A)
fi
content_digest="sha-256=:${body_sha256}:"

created=$(date +%s)
nonce=$(openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n')
signature_params="(\"@method\" \"@authority\" \"@path\" \"@query\" \"content-digest\");created=${created};nonce=\"${nonce}\";keyid=\"${key_id}\";alg=\"hmac-sha256\""

# The signature base (RFC 9421, section 2.5): one line per component, the
# @signature-params line last, with no final line break.
signature_base=$(printf '"@method": %s\n"@authority": %s\n"@path": %s\n"@query": %s\n"content-digest": %s\n"@signature-params": %s' \
	"${method^^}" "$authority" "$path" "$query" "$content_digest" "$signature_params")

signature=$(printf '%s' "$signature_base" |
	openssl dgst -sha256 -mac HMAC -macopt "hexkey:${key_hex}" -binary | openssl base64 -A)

headers=(
	"Content-Digest: ${content_digest}"
	"Signature-Input: sig1=${signature_params}"
	"Signature: sig1=:${signature}:"
)

if $print_only; then
	printf '%s\n' "${headers[@]}"
	exit 0
fi

# --path-as-is keeps curl from removing . and .. segments, so the path
# sent is the path signed.
curl_args=(--silent --show-error --fail-with-body --path-as-is --request "${method^^}")
for header in "${headers[@]}"; do
	curl_args+=(--header "$header")
done
[[ -z ${INTERNALAUTH_CACERT:-} ]] || curl_args+=(--cacert "$INTERNALAUTH_CACERT")
[[ -z ${INTERNALAUTH_CERT:-} ]] || curl_args+=(--cert "$INTERNALAUTH_CERT")
[[ -z ${INTERNALAUTH_KEY:-} ]] || curl_args+=(--key "$INTERNALAUTH_KEY")
[[ -z $body_file ]] || curl_args+=(--data-binary "@${body_file}")

exec curl "${curl_args[@]}" "$@" -- "$url"
