// A WebAuthn registration response with `packed` self-attestation, made here with Node's crypto
// (the software and Chromium authenticators only give `none` attestation): the Worker must check
// its signature and its key with WebCrypto. `tamper` alters it in one way.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** Minimal CBOR (RFC 8949) for what attestation objects hold: small ints, text, bytes, maps. */
function cbor(v) {
  const head = (major, n) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
    throw new Error('too long for this encoder');
  };
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  if (v instanceof Map) return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
  throw new Error(`cannot encode ${typeof v}`);
}

const sha256 = (data) => createHash('sha256').update(data).digest();

/**
 * A RegistrationResponseJSON for creation `options` at `origin` with an ES256 key.
 * tamper: undefined | 'signature' (one bit flipped) | 'off-curve' (the key is no P-256 point;
 * sent with `none` attestation, so only the key check can refuse it).
 */
export function packedRegistration(options, origin, tamper) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  let [x, y] = [Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')];
  if (tamper === 'off-curve') [x, y] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
  const coseKey = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
  const credentialId = randomBytes(16);
  const authData = Buffer.concat([
    sha256(options.rp.id),
    Buffer.from([0x45]), // UP, UV, AT
    Buffer.alloc(4), // sign count 0
    Buffer.alloc(16), // AAGUID
    Buffer.from([0, credentialId.length]),
    credentialId,
    coseKey,
  ]);
  const clientDataJSON = Buffer.from(
    JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }),
  );
  const sig = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey);
  if (tamper === 'signature') sig[sig.length - 1] ^= 1;
  const attStmt = tamper === 'off-curve' ? new Map() : new Map([['alg', -7], ['sig', sig]]);
  const fmt = tamper === 'off-curve' ? 'none' : 'packed';
  const attestationObject = cbor(new Map([['fmt', fmt], ['attStmt', attStmt], ['authData', authData]]));
  return {
    id: credentialId.toString('base64url'),
    rawId: credentialId.toString('base64url'),
    type: 'public-key',
    response: {
      clientDataJSON: clientDataJSON.toString('base64url'),
      attestationObject: attestationObject.toString('base64url'),
      transports: ['internal'],
    },
    clientExtensionResults: {},
  };
}
