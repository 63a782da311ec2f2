/** Small helpers for calling an app in tests. */

export const testServiceToken = 'test-service-token-0123456789abcdef0123456789';

export function jsonInit(method: string, body?: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Polls `check` until it returns true or `timeoutMs` passes; returns how long it took, or null. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await Bun.sleep(everyMs);
  }
  return null;
}
