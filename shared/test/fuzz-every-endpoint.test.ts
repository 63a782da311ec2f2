/**
 * Property-based fuzzing (fast-check) of every operation auth, catalog and purchase list in their
 * `/openapi.json`, so a new route is fuzzed without anyone adding it here. Each operation gets
 * requests made from its documented parameters and body (JSON, or the form fields it documents)
 * and mutations of them (fuzz-requests.ts), sent over HTTP by the caller its `x-access` calls for
 * or by a wrong one (fuzz-shop.ts). Every answer must be
 * - below 500 (no dependency is down here, so not even a documented 503);
 * - a refusal when the caller lacks the credentials the operation asks for, also when the same
 *   request was just accepted for the right caller (it is sent again as a caller without them);
 * - for a 4xx, problem+json with its title and status, or HTML where the document says so;
 * - for a 2xx in JSON, what the document says it is.
 * Afterwards the checkout's invariants hold, and the test's own admin and customers are still in:
 * auth's user ids and self-service deletions are pointed at accounts made per request.
 * A failure shows the operation, the caller and the request (fast-check's counterexample), what
 * came back and the error the service logged. FUZZ_RUNS (default 30) sets the requests per
 * operation; FUZZ_SEED the seed (fixed, so a run can be replayed: fast-check prints seed and path).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import Ajv2020 from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { fieldsOf, lacksCredentials, operationsOf, requestsFor, type FuzzRequest, type Operation, type Vocabulary } from './fuzz-requests.ts';
import { startFuzzShop, type Answer, type ServiceName } from './fuzz-shop.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 30);
const seed = Number(process.env.FUZZ_SEED ?? 20261127);

const shop = await startFuzzShop();
afterAll(() => shop.close());
const documents = await shop.documents();
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

/** How requests to `service` are made: from its document, aiming at the shop's fixtures. */
function vocabularyOf(service: ServiceName, operations: Operation[]): Vocabulary {
  return {
    root: documents[service],
    fields: fieldsOf(operations),
    known: (name) => shop.known[service][name] ?? [],
    // Auth's path ids are user ids: never the test's own callers, whose loss would stop the run.
    pathValue: service === 'auth' ? (_name, encoded) => (shop.isProtectedUser(encoded) ? 'THROWAWAY' : encoded) : undefined,
    // A signed-in write to auth acts on the caller's own session or account (log out, delete me).
    rightCaller: (operation) => (service === 'auth' && operation.access === 'signed-in' && operation.method !== 'GET' ? 'throwaway' : undefined),
  };
}

for (const service of ['auth', 'catalog', 'purchase'] as const) {
  const operations = operationsOf(service, documents[service]);
  const vocabulary = vocabularyOf(service, operations);
  describe(`${service}: every documented operation, fuzzed`, () => {
    test('the document lists operations', () => expect(operations.length).toBeGreaterThan(3));
    for (const operation of operations) {
      test(`${operation.method} ${operation.path}`, async () => {
        if (operation.path.includes('{') && service !== 'auth') await shop.freshTargets();
        const answersWell = fc.asyncProperty(requestsFor(operation, vocabulary), async (request) => {
          const answer = await shop.send(service, request);
          failIfWrong(whatIsWrong(operation, request, answer), service, answer);
          // Accepted: the same request must be refused to a caller without the credentials it asks for.
          if (answer.status >= 400 || !request.echoAs || lacksCredentials(operation.access, request.caller)) return;
          const echo = await shop.send(service, { ...request, caller: request.echoAs });
          if (echo.status < 400) failIfWrong(`accepted (${answer.status}) for ${request.caller}, and again (${echo.status}) for ${request.echoAs}`, service, echo);
        });
        await fc.assert(answersWell, { numRuns: runs, seed });
      }, 120_000);
    }
  });
}

test('afterwards: stock is conserved, no order is charged twice, and the admin and the owner are still in', async () => {
  expect(await shop.broken()).toEqual([]);
});

function failIfWrong(wrong: string | undefined, service: ServiceName, answer: Answer) {
  if (!wrong) return;
  const logged = answer.logged ? `\n  ${service} logged: ${answer.logged.slice(0, 1_500)}` : '';
  throw new Error(`${wrong}\n  answered ${answer.status} ${answer.contentType}: ${answer.text.slice(0, 400)}${logged}`);
}

/** What is wrong with `answer` to `request`, in a sentence; nothing when it is right. */
function whatIsWrong(operation: Operation, request: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status >= 500) return `a server error (${answer.status})`;
  if (lacksCredentials(operation.access, request.caller) && answer.status < 400) return `a ${request.caller} caller got ${answer.status} from an operation for ${operation.access} callers`;
  // A JSON body documented for this status (a success, or a refusal that carries one, such as a declined charge) must match it.
  const schema = operation.responses[String(answer.status)]?.content?.['application/json']?.schema;
  if (schema && answer.contentType.startsWith('application/json')) return ajv.validate(schema, JSON.parse(answer.text)) ? undefined : `the answer is not what the document says: ${ajv.errorsText(ajv.errors)}`;
  if (answer.status >= 400) return refusalProblem(operation, answer, refusedAtTheDoor(request, answer));
  return undefined;
}

/**
 * Refused before any route is chosen, the same way on every route (problem+json, even where the
 * route itself answers HTML): a body over the limit (413, in every document's description), a NUL
 * in the address (400).
 */
const refusedAtTheDoor = (request: FuzzRequest, answer: Answer) =>
  answer.status === 413 || (answer.status === 400 && /%00/i.test(`${request.path}?${new URLSearchParams(request.query)}`));

/** A refusal is problem+json with its title and status, or HTML where the document says so (or, undocumented, where the route answers HTML). */
function refusalProblem(operation: Operation, answer: Answer, atTheDoor: boolean): string | undefined {
  const documented = Object.keys(operation.responses[String(answer.status)]?.content ?? {});
  const answersHtml = Object.values(operation.responses).some((response) => response.content?.['text/html']);
  const html = answer.contentType.startsWith('text/html');
  const problem = answer.contentType.startsWith('application/problem+json');
  const htmlDocumented = documented.includes('text/html') || (!documented.length && answersHtml && html);
  if (htmlDocumented && !(atTheDoor && problem)) return html ? undefined : `a ${answer.status} documented as HTML came as ${answer.contentType}`;
  if (!problem) return `a ${answer.status} came as ${answer.contentType || 'no content type'}, not problem+json`;
  const { title, status } = JSON.parse(answer.text) as { title?: unknown; status?: unknown };
  if (typeof title !== 'string' || !title || status !== answer.status) return `a problem without its title or status: ${answer.text.slice(0, 200)}`;
  return undefined;
}
