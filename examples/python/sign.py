#!/usr/bin/env python3
"""Sign a request for the internalauth middleware and send it over mutual TLS.

Uses the Python 3 standard library only. The signature is RFC 9421
hmac-sha256 over "@method" "@authority" "@path" "@query" and
"content-digest", with created, nonce, keyid and alg parameters, as the
middleware requires by default.

Example:
    sign.py --key-id ops-2026 --key-file hmac.key \\
        --cacert ca.pem --cert client.crt --key client.key \\
        --data-file body.json POST \\
        https://apiinternal.example.com/api/internal/users/reset-otp

Exit codes: 0 for a 2xx response, 1 when the request fails or gets a 3xx
response, 2 for invalid arguments or key, 3 for a 4xx or 5xx response.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import http.client
import secrets
import socket
import ssl
import sys
import time
import urllib.parse

COMPONENTS = ("@method", "@authority", "@path", "@query", "content-digest")
MIN_KEY_BYTES = 32


def decode_key(text, encoding):
    """Decode an HMAC key as the middleware's keys[].encoding does."""
    if encoding == "raw":
        return text
    stripped = text.strip()
    if encoding == "hex":
        return binascii.unhexlify(stripped)
    if encoding == "base64":
        normalized = stripped.replace(b"-", b"+").replace(b"_", b"/")
        normalized += b"=" * (-len(normalized) % 4)
        return base64.b64decode(normalized, validate=True)
    raise ValueError(f"invalid key encoding {encoding!r}: use raw, base64 or hex")


def read_key(path, encoding):
    """Read a key file, less one trailing line break, as the middleware does."""
    with open(path, "rb") as key_file:
        text = key_file.read(64 * 1024 + 1)
    text = text.removesuffix(b"\n").removesuffix(b"\r")
    try:
        key = decode_key(text, encoding)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"the key in {path} is not valid {encoding}: {error}") from error
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"the key in {path} is {len(key)} bytes after {encoding} decoding, "
            f"the middleware requires at least {MIN_KEY_BYTES}: check --key-encoding")
    return key


def signature_headers(method, url, body, key_id, key, created=None, nonce=None):
    """Return the Content-Digest, Signature-Input and Signature headers."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username is not None:
        raise ValueError(f"invalid URL {url!r}: use an https URL with a host name")
    if any(c in key_id for c in '"\\') or not key_id.isprintable() or not key_id.isascii():
        raise ValueError(f"invalid key id {key_id!r}: use printable ASCII without quotes or backslashes")

    authority = parts.netloc.lower().removesuffix(":443")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    content_digest = f"sha-256=:{digest}:"

    if created is None:
        created = int(time.time())
    if nonce is None:
        nonce = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")

    covered = " ".join(f'"{name}"' for name in COMPONENTS)
    params = f'({covered});created={created};nonce="{nonce}";keyid="{key_id}";alg="hmac-sha256"'

    values = {
        "@method": method.upper(),
        "@authority": authority,
        "@path": parts.path or "/",
        "@query": "?" + parts.query,
        "content-digest": content_digest,
    }
    lines = [f'"{name}": {values[name]}' for name in COMPONENTS]
    lines.append(f'"@signature-params": {params}')
    base = "\n".join(lines).encode()

    mac = hmac.new(key, base, hashlib.sha256).digest()

    return {
        "Content-Digest": content_digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{base64.b64encode(mac).decode()}:",
    }


class ResolvedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a fixed address that keeps the URL's host for
    SNI, certificate checks and Host, like curl's --resolve."""

    def __init__(self, host, port, address, context, timeout):
        super().__init__(host, port, context=context, timeout=timeout)
        self.address = address
        self.tls_context = context

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)


def send(args, headers, body):
    """Send the signed request and return the exit code for its status."""
    parts = urllib.parse.urlsplit(args.url)
    context = ssl.create_default_context(cafile=args.cacert)
    if args.cert:
        context.load_cert_chain(args.cert, args.key)

    port = parts.port or 443
    address = resolve_address(args.resolve, parts.hostname, port)
    if address:
        connection = ResolvedHTTPSConnection(parts.hostname, port, address, context, args.timeout)
    else:
        connection = http.client.HTTPSConnection(parts.hostname, port, context=context, timeout=args.timeout)

    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    try:
        connection.request(args.method.upper(), target, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()

    print(f"HTTP/1.1 {response.status} {response.reason}", file=sys.stderr)
    sys.stdout.buffer.write(payload)
    sys.stdout.flush()

    if 200 <= response.status < 300:
        return 0
    return 3 if response.status >= 400 else 1


def resolve_address(entries, host, port):
    """Return the address of a matching HOST:PORT:ADDRESS entry, or None."""
    for entry in entries:
        fields = entry.split(":", 2)
        if len(fields) != 3:
            raise ValueError(f"invalid --resolve {entry!r}: write HOST:PORT:ADDRESS")
        if fields[0].lower() == host.lower() and fields[1] == str(port):
            return fields[2].strip("[]")
    return None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Sign a request for the internalauth middleware and send it over mutual TLS.")
    parser.add_argument("method", help="HTTP method, such as GET or POST")
    parser.add_argument("url", help="https URL of the request, already percent-encoded")
    parser.add_argument("--data-file", help="file sent byte for byte as the body (default: no body)")
    parser.add_argument("--key-id", required=True, help="key id, as keys[].id in the middleware")
    parser.add_argument("--key-file", required=True, help="file holding the HMAC key")
    parser.add_argument("--key-encoding", default="raw", choices=("raw", "base64", "hex"),
                        help="how the key file is written, as keys[].encoding (default raw)")
    parser.add_argument("--cacert", help="PEM CA certificates that verify the server (default: system CAs)")
    parser.add_argument("--cert", help="PEM client certificate for mutual TLS")
    parser.add_argument("--key", help="PEM private key of the client certificate")
    parser.add_argument("--resolve", action="append", default=[], metavar="HOST:PORT:ADDRESS",
                        help="connect to ADDRESS for HOST:PORT, as curl's --resolve")
    parser.add_argument("--timeout", type=float, default=30, help="socket timeout in seconds (default 30)")
    parser.add_argument("--print-headers", action="store_true",
                        help="print the signature headers instead of sending the request")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        key = read_key(args.key_file, args.key_encoding)
        body = b""
        if args.data_file:
            with open(args.data_file, "rb") as body_file:
                body = body_file.read()
        headers = signature_headers(args.method, args.url, body, args.key_id, key)
    except (OSError, ValueError) as error:
        print(f"sign.py: {error}", file=sys.stderr)
        return 2

    if args.print_headers:
        for name, value in headers.items():
            print(f"{name}: {value}")
        return 0

    try:
        return send(args, headers, body)
    except (OSError, ValueError, http.client.HTTPException) as error:
        print(f"sign.py: {args.method.upper()} {args.url} failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
