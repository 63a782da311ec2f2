/** Signing keys and session tokens made in tests, shaped as auth issues them (iss, aud, sub, role, sid, exp). */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Jwt } from 'hono/utils/jwt';
import { sessionAudience, signingAlgorithm, tokenIssuer, type PublicJwk } from '../auth.ts';

export interface TestSigningKey {
  privateJwk: JsonWebKey & { kid: string; alg: 'EdDSA' };
  publicJwk: PublicJwk & { kid: string };
}

/** A fresh Ed25519 key with its RFC 7638 kid, as auth's keys carry them. */
export function testSigningKey(): TestSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
  const kid = createHash('sha256').update(JSON.stringify({ crv: pub.crv, kty: pub.kty, x: pub.x })).digest('base64url');
  return {
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' },
    publicJwk: { ...pub, kid, alg: 'EdDSA', use: 'sig' },
  };
}

/**
 * A session token signed with `privateJwk`: valid claims unless `claims` overrides them (a value of
 * `undefined` leaves that claim out).
 *
 * @example
 * const forged = await mintTestToken(auth.key.privateJwk, { aud: 'reports' });
 */
export async function mintTestToken(privateJwk: JsonWebKey & { kid: string; alg: string }, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: tokenIssuer,
    aud: sessionAudience,
    sub: '1',
    role: 'customer',
    name: 'Test User',
    sid: crypto.randomUUID(),
    iat: now,
    exp: now + 3600,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return Jwt.sign(payload, privateJwk as never, signingAlgorithm);
}
