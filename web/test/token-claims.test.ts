/** The web front treats a token auth signed for another audience or issuer as no session at all. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { eventually } from '@bookstore/shared/testing/http';
import { mintTestToken } from '@bookstore/shared/testing/tokens';
import type { ServedTestAuth } from '../../services/auth/test/support.ts';
import { startTestWeb, startWebWithAuth } from './support.ts';

let auth: ServedTestAuth;
let web: ReturnType<typeof startTestWeb>;
let close: () => Promise<void>;
beforeAll(async () => ({ auth, web, close } = await startWebWithAuth()));
afterAll(() => close());

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

test("a session cookie holding a token for another audience or issuer, signed with auth's key, is no session", async () => {
  const { token } = await auth.signUp('Audience Member');
  const home = (value: string) => web.browse('/', { cookie: `bookstore_session=${value}` });
  expect(await eventually(async () => (await (await home(token)).text()).includes('Signed in as <strong>Audience Member</strong>'), 3000)).not.toBeNull();
  const reissued = await mintTestToken(auth.key.privateJwk, claimsOf(token));
  expect(await (await home(reissued)).text()).toContain('Signed in as <strong>Audience Member</strong>');

  for (const claims of [{ aud: 'bookstore-reports' }, { aud: undefined }, { iss: 'bookstore-reports' }, { iss: undefined }]) {
    const response = await home(await mintTestToken(auth.key.privateJwk, { ...claimsOf(token), ...claims }));
    const page = await response.text();
    expect({ claims, signedIn: page.includes('Signed in as') }).toEqual({ claims, signedIn: false });
    expect(page).toContain('href="/login"');
    // The cookie is dropped, as for any invalid token.
    expect(response.headers.getSetCookie().some((value) => value.startsWith('bookstore_session=;'))).toBe(true);
  }
});
