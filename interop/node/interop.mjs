// Signs or verifies an internalauth request with the npm package
// http-message-signatures, an RFC 9421 implementation independent of
// this repository, so the Go tests can check both directions.
//
// Usage: node interop.mjs sign|verify < request.json
//
// The request is a JSON object: method, url, body (text), keyId, keyFile
// (a file holding the HMAC key in base64), and for verify, headers (an
// object of header values).
//
// sign prints Content-Digest, Signature-Input and Signature as
// "Name: value" lines. verify prints {"verified": true|false, "error": ...}
// and exits 0 when the signature and Content-Digest verify, 1 when they
// do not, and 2 on invalid input.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSigner, createVerifier, httpbis } from 'http-message-signatures';

const components = ['@method', '@authority', '@path', '@query', 'content-digest'];
const params = ['created', 'nonce', 'keyid', 'alg'];

// Limits that match the middleware's defaults: maxAge 5m, clockSkew 30s.
const maxAgeSeconds = 300;
const clockSkewSeconds = 30;

function contentDigest(body) {
  const sum = createHash('sha256').update(Buffer.from(body, 'utf8')).digest('base64');

  return `sha-256=:${sum}:`;
}

function readKey(path) {
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
}

async function sign(request) {
  const key = readKey(request.keyFile);
  const message = {
    method: request.method,
    url: request.url,
    headers: { 'Content-Digest': contentDigest(request.body) },
  };

  const nonce = randomBytes(16).toString('base64url');

  const signed = await httpbis.signMessage({
    key: createSigner(key, 'hmac-sha256', request.keyId),
    name: 'sig1',
    fields: components,
    params,
    paramValues: { nonce },
  }, message);

  for (const name of ['Content-Digest', 'Signature-Input', 'Signature']) {
    process.stdout.write(`${name}: ${signed.headers[name]}\n`);
  }
}

async function verify(request) {
  const key = readKey(request.keyFile);
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );

  if (headers['content-digest'] !== contentDigest(request.body)) {
    return { verified: false, error: 'Content-Digest does not match the body' };
  }

  const verified = await httpbis.verifyMessage({
    keyLookup: async (parameters) => {
      if (parameters.keyid !== request.keyId) {
        return null;
      }

      return { id: request.keyId, algs: ['hmac-sha256'], verify: createVerifier(key, 'hmac-sha256') };
    },
    requiredFields: components,
    requiredParams: params,
    maxAge: maxAgeSeconds,
    tolerance: clockSkewSeconds,
  }, { method: request.method, url: request.url, headers });

  return { verified: verified === true, error: verified === true ? null : 'no signature verified' };
}

async function main() {
  const mode = process.argv[2];
  const request = JSON.parse(readFileSync(0, 'utf8'));

  if (mode === 'sign') {
    await sign(request);

    return 0;
  }

  if (mode === 'verify') {
    let result;

    try {
      result = await verify(request);
    } catch (error) {
      result = { verified: false, error: `${error.name}: ${error.message}` };
    }

    process.stdout.write(`${JSON.stringify(result)}\n`);

    return result.verified ? 0 : 1;
  }

  process.stderr.write('usage: node interop.mjs sign|verify < request.json\n');

  return 2;
}

main().then((code) => {
  process.exitCode = code;
}, (error) => {
  process.stderr.write(`interop.mjs: ${error.stack}\n`);
  process.exitCode = 2;
});
