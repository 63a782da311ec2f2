/** The token signing key: Ed25519, from a secret in production, generated once and kept in KEY_DIR otherwise. */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublicJwk } from '@bookstore/shared/auth';

export interface SigningKey {
  /** Private JWK with `kid` and `alg`, as Hono's `sign` takes it. */
  privateJwk: JsonWebKey & { kid: string; alg: 'EdDSA' };
  publicJwk: PublicJwk & { kid: string };
  /** Every key tokens may be signed with, this one first: what the JWKS publishes and auth accepts. */
  published: (PublicJwk & { kid: string })[];
}

function fromKeyObject(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('SIGNING_KEY must be an Ed25519 key');
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
  // RFC 7638 thumbprint: the key's own id, stable across restarts and replicas.
  const kid = createHash('sha256').update(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x })).digest('base64url');
  const privateJwk = privateKey.export({ format: 'jwk' });
  const published = { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' };
  return { privateJwk: { ...privateJwk, kid, alg: 'EdDSA' }, publicJwk: published, published: [published] };
}

/**
 * Parses one or more private keys: PKCS#8 PEM blocks one after another, a JWK, or a JSON array of
 * JWKs. The first signs; all are published (key rotation: the new key first, the old one after it
 * until every token it signed has expired, then removed).
 */
export function parseSigningKey(text: string): SigningKey {
  const trimmed = text.trim();
  const objects = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as JsonWebKey[]).map((jwk) => createPrivateKey({ key: jwk as never, format: 'jwk' }))
    : trimmed.startsWith('{')
      ? [createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })]
      : (trimmed.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g) ?? [trimmed]).map((pem) => createPrivateKey({ key: pem, format: 'pem' }));
  if (objects.length === 0) throw new Error('SIGNING_KEY holds no key');
  const [current, ...others] = objects.map(fromKeyObject);
  return { ...current!, published: [current!.publicJwk, ...others.map((key) => key.publicJwk)] };
}

/**
 * The configured key, or the one kept in `keyDir/auth-signing-key.pem`, created on first start.
 *
 * @example
 * const key = loadSigningKey({ SIGNING_KEY: config.SIGNING_KEY, KEY_DIR: './data' });
 */
export function loadSigningKey(options: { SIGNING_KEY?: string; KEY_DIR: string }): SigningKey {
  if (options.SIGNING_KEY) return parseSigningKey(options.SIGNING_KEY);
  const path = join(options.KEY_DIR, 'auth-signing-key.pem');
  if (!existsSync(path)) {
    mkdirSync(options.KEY_DIR, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  }
  return parseSigningKey(readFileSync(path, 'utf8'));
}
