/** A token verifier against a test auth server, as catalog, purchase and web create theirs. */
import { createTokenVerifier, serviceTokenHeader } from '../auth.ts';
import { createHttpClient } from '../http.ts';
import { testServiceToken } from './http.ts';

export function testVerifier(authUrl: string, pollMs = 200) {
  const auth = createHttpClient({ service: 'auth', baseUrl: authUrl, timeoutMs: 1000, headers: { [serviceTokenHeader]: testServiceToken } });
  const verifier = createTokenVerifier({ auth, pollMs });
  verifier.start();
  return { verifier, authClient: auth };
}
