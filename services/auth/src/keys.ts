/** The token signing key: Ed25519, from a secret in production, generated once and kept in KEY_DIR otherwise. */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublicJwk } from '@bookstore/shared/auth';

export interface SigningKey {
  /** Private JWK with `kid` and `alg`, as Hono's `sign` takes it. */
  privateJwk: JsonWebKey & { kid: string; alg: 'EdDSA' };
  publicJwk: PublicJwk & { kid: string };
}

function fromKeyObject(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('SIGNING_KEY must be an Ed25519 key');
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
  // RFC 7638 thumbprint: the key's own id, stable across restarts and replicas.
  const kid = createHash('sha256').update(JSON.stringify({ crv: publicJwk.crv, kty: publicJwk.kty, x: publicJwk.x })).digest('base64url');
  const privateJwk = privateKey.export({ format: 'jwk' });
  return {
    privateJwk: { ...privateJwk, kid, alg: 'EdDSA' },
    publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
  };
}

/** Parses a private key given as JWK JSON or PKCS#8 PEM. */
export function parseSigningKey(text: string): SigningKey {
  const trimmed = text.trim();
  const key = trimmed.startsWith('{')
    ? createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })
    : createPrivateKey({ key: trimmed, format: 'pem' });
  return fromKeyObject(key);
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
