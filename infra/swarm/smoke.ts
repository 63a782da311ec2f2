/**
 * The smoke journey: what a shopper's browser does without JavaScript, over plain HTTP, against
 * the web front at a base URL. Home, register, log out and in, find a book in stock, add it to
 * the cart, check out, pay with the test card, and see the order paid. Each step is timed and
 * checked; the first failure ends the journey and names the step.
 *
 *   bun infra/swarm/smoke.ts --base-url https://shop.example.com [--insecure] [--json]
 *                            [--seed-seller EMAIL:PASSWORD]
 *
 * It creates a user (smoke-…@example.com) and an order each run; with --seed-seller, a book too
 * when none is in stock.
 */

export interface SmokeOptions {
  /** Accept a self-signed or otherwise unverifiable TLS certificate. */
  insecure?: boolean;
  /** A seller to log in as and add a book in stock with, when the catalog has none. */
  seedSeller?: { email: string; password: string };
  /** Per request, redirects included (default 15 s). */
  requestTimeoutMs?: number;
  /** How long the order may take to show as paid once the payment is accepted (default 15 s). */
  paidWithinMs?: number;
  /** Called as each step ends, for live output. */
  onStep?: (step: SmokeStep) => void;
}

export interface SmokeStep {
  name: string;
  ok: boolean;
  /** The last response's status; null when none came (refused, timed out). */
  status: number | null;
  ms: number;
  /** What was asked, and where the redirects ended: "POST /checkout → /orders/ord_…/pay". */
  request: string;
  /** Why it failed. */
  detail?: string;
  /** The first 300 characters of the failing response: its <main> when it has one. */
  body?: string;
}

export interface SmokeResult {
  ok: boolean;
  baseUrl: string;
  steps: SmokeStep[];
  /** Set once known: the account created, the book bought, the order placed. */
  email?: string;
  bookId?: number;
  orderId?: string;
}

/**
 * @example
 * const result = await runSmoke('http://127.0.0.1:3000', { seedSeller: { email: 'alice@bookstore.test', password: 'alice-demo-pass' } });
 * if (!result.ok) console.error(result.steps.at(-1));
 */
export async function runSmoke(baseUrl: string, options: SmokeOptions = {}): Promise<SmokeResult> {
  const base = new URL(baseUrl);
  const result: SmokeResult = { ok: false, baseUrl: base.origin, steps: [] };
  const trace: Trace = { request: '' };
  const journey: Journey = {
    options,
    result,
    shopper: new Session(base, options, trace),
    newSession: () => new Session(base, options, trace),
    step: stepRunner(result, trace, options.onStep),
  };
  try {
    await journey.step('home', () => journey.shopper.expectPage('GET', '/'));
    await signUp(journey);
    const bookId = await findBookInStock(journey);
    await buy(journey, bookId);
    result.ok = true;
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
  }
  return result;
}

interface Journey {
  options: SmokeOptions;
  result: SmokeResult;
  /** The shopper's browser. */
  shopper: Session;
  /** Another browser (the seller's). */
  newSession: () => Session;
  step: StepRunner;
}

/** Register a fresh user, log out, log in again. */
async function signUp({ shopper, step, result }: Journey) {
  const email = `smoke-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = `smoke-${crypto.randomUUID()}`;
  result.email = email;
  await step('register', async () => {
    // Names are unique (auth refuses one that looks like another's), so each run has its own.
    const page = await shopper.expectPage('POST', '/register', { name: `Smoke Test ${email.slice(6, 18)}`, email, password });
    shopper.expectSignedIn(page, 'registering');
    return page;
  });
  await step('log out', async () => {
    const page = await shopper.expectPage('POST', '/logout', {});
    if (shopper.signedIn) fail('still holding a session cookie after logging out', page);
    return page;
  });
  await step('log in', async () => {
    const page = await shopper.expectPage('POST', '/login', { email, password });
    shopper.expectSignedIn(page, 'logging in');
    return page;
  });
}

/**
 * How old a listing a shopper sees may be: the web front shares catalog's listings for
 * LISTING_MAX_AGE_SECONDS (2 s), and a replica may lag behind; a book just added can take that long.
 */
const listingStalenessMs = 5000;

/** The listing page, asked again every 250 ms while it lists no book, until `withinMs` has passed. */
async function listedWithin(withinMs: number, load: () => Promise<Page>): Promise<Page> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const page = await load();
    if (bookLinks(page.html).length > 0 || Date.now() >= deadline) return page;
    await Bun.sleep(250);
  }
}

/** The first book the catalog lists as in stock; with a seed seller, one it adds when there is none. */
async function findBookInStock(journey: Journey): Promise<number> {
  const { shopper, step, options } = journey;
  let bookId: number | undefined;
  await step('catalog', async () => {
    // With a seller to add a book, an empty listing is not worth waiting out.
    const page = await listedWithin(options.seedSeller ? 0 : listingStalenessMs, () => shopper.expectPage('GET', '/catalog?inStock=true'));
    bookId = bookLinks(page.html)[0];
    if (bookId === undefined && !options.seedSeller) {
      fail('the catalog has no book in stock: add one (or give --seed-seller EMAIL:PASSWORD to add one as that seller)', page);
    }
    return page;
  });
  if (bookId === undefined) bookId = await seedBook(journey, options.seedSeller!);
  journey.result.bookId = bookId;
  return bookId;
}

/** The seller's part: log in, add a book with copies in stock, find it in the catalog. */
async function seedBook({ shopper, step, newSession }: Journey, seller: { email: string; password: string }): Promise<number> {
  const session = newSession();
  const title = `Smoke test book ${new Date().toISOString().slice(0, 16)}`;
  await step('seller log in', async () => {
    const page = await session.expectPage('POST', '/login', { email: seller.email, password: seller.password });
    session.expectSignedIn(page, `logging in as ${seller.email}`);
    return page;
  });
  await step('add a book', async () => {
    const form = { title, author: 'Bookstore smoke', description: 'Added by infra/swarm/smoke to have a book in stock.', price: '9.50', stock: '100' };
    const page = await session.expectPage('POST', '/sell/new', form);
    if (page.redirects === 0) fail('adding the book did not redirect (the form came back, with errors?)', page);
    return page;
  });
  let bookId: number | undefined;
  await step('catalog (seeded)', async () => {
    const page = await listedWithin(listingStalenessMs, () => shopper.expectPage('GET', `/catalog?inStock=true&q=${encodeURIComponent(title)}`));
    bookId = bookLinks(page.html)[0];
    if (bookId === undefined) fail(`the book just added ("${title}") is not in the catalog`, page);
    return page;
  });
  return bookId!;
}

/** Book page, cart, checkout, payment with the test card, and the order shown as paid. */
async function buy({ shopper, step, result, options }: Journey, bookId: number) {
  await step('book', async () => {
    const page = await shopper.expectPage('GET', `/books/${bookId}`);
    const form = findForm(page.html, '/cart/items');
    if (!form || formValues(form).bookId !== String(bookId)) fail(`the page of book ${bookId} has no "Add to cart" form (out of stock, or purchase unavailable)`, page);
    return page;
  });
  await step('add to cart', async () => {
    const page = await shopper.expectPage('POST', '/cart/items', { bookId: String(bookId), quantity: '1' });
    if (page.path !== '/cart') fail(`expected to land on /cart, got ${page.path}`, page);
    return page;
  });
  await step('cart', async () => {
    const page = await shopper.expectPage('GET', '/cart');
    if (!page.html.includes(`href="/books/${bookId}"`)) fail(`the cart does not show book ${bookId}`, page);
    return page;
  });

  let checkout: Record<string, string> = {};
  await step('checkout', async () => {
    const page = await shopper.expectPage('GET', '/checkout');
    const form = findForm(page.html, '/checkout') ?? fail('no checkout form', page);
    checkout = formValues(form);
    if (!checkout.key) fail('the checkout form has no hidden "key"', page);
    checkout.providerId ||= radioValues(form, 'providerId')[0] ?? fail('the checkout form offers no delivery (providerId)', page);
    return page;
  });

  let payment: Record<string, string> = {};
  await step('place order', async () => {
    const page = await shopper.expectPage('POST', '/checkout', checkout);
    const orderId = page.path.match(/^\/orders\/(ord_[a-z0-9]+)\/pay$/)?.[1] ?? fail(`expected to land on /orders/<id>/pay, got ${page.path}`, page);
    result.orderId = orderId;
    payment = formValues(findForm(page.html, `/orders/${orderId}/pay`) ?? fail('the payment page has no payment form', page));
    if (!payment.key) fail('the payment form has no hidden "key"', page);
    return page;
  });
  const order = `/orders/${result.orderId}`;
  await step('pay', async () => {
    const card = { cardNumber: '4242 4242 4242 4242', expMonth: '12', expYear: String(new Date().getFullYear() + 2), cvc: '123', holder: 'Smoke Test' };
    const page = await shopper.expectPage('POST', `${order}/pay`, { ...payment, ...card });
    if (page.path !== order) fail(`expected to land on the order page ${order}, got ${page.path}`, page);
    return page;
  });
  // The payment is settled by the time the order page shows; a slower saga gets a few seconds.
  await step('order paid', async () => {
    const deadline = Date.now() + (options.paidWithinMs ?? 15_000);
    for (;;) {
      const page = await shopper.expectPage('GET', order);
      if (/class="status[^"]*">\s*Paid\s*</.test(page.html)) return page;
      if (Date.now() > deadline) fail(`order ${result.orderId} is not shown as Paid`, page);
      await Bun.sleep(500);
    }
  });
}

// --- steps -----------------------------------------------------------------------------------

type StepRunner = (name: string, action: () => Promise<Page>) => Promise<Page>;

/** Thrown by a check inside a step: ends the journey with the step marked failed. */
class CheckFailed extends Error {
  constructor(message: string, readonly page?: Page) {
    super(message);
  }
}
class StepFailed extends Error {}

function fail(message: string, page?: Page): never {
  throw new CheckFailed(message, page);
}

/** The request the current step made last, for its report line. */
interface Trace {
  request: string;
}

function stepRunner(result: SmokeResult, trace: Trace, onStep?: (step: SmokeStep) => void): StepRunner {
  return async (name, action) => {
    const started = performance.now();
    trace.request = '';
    const record = (step: Omit<SmokeStep, 'name' | 'ms'>) => {
      const done: SmokeStep = { name, ms: Math.round(performance.now() - started), ...step };
      result.steps.push(done);
      onStep?.(done);
      return done;
    };
    try {
      const page = await action();
      record({ ok: true, status: page.status, request: trace.request });
      return page;
    } catch (error) {
      const page = error instanceof CheckFailed ? error.page : error instanceof RequestFailed ? error.page : undefined;
      const message = error instanceof Error ? error.message : String(error);
      record({ ok: false, status: page?.status ?? null, request: trace.request, detail: message, ...(page ? { body: excerpt(page.html) } : {}) });
      throw new StepFailed(`${name}: ${message}`);
    }
  };
}

// --- a browser without JavaScript --------------------------------------------------------------

interface Page {
  status: number;
  /** Where the redirects ended (its path). */
  path: string;
  url: string;
  html: string;
  redirects: number;
}

class RequestFailed extends Error {
  constructor(message: string, readonly page?: Page) {
    super(message);
  }
}

const sessionCookie = 'bookstore_session';

/** One browser: its cookies, its requests (Origin on forms, redirects followed by hand so each hop's cookies count). */
class Session {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly base: URL,
    private readonly options: SmokeOptions,
    private readonly trace: Trace,
  ) {}

  get signedIn(): boolean {
    return this.cookies.has(sessionCookie);
  }

  /** The request; throws unless it ends in a 200 page. */
  async expectPage(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Page> {
    const page = await this.request(method, path, form);
    if (page.status !== 200) throw new RequestFailed(`expected 200, got ${page.status} at ${page.path}`, page);
    return page;
  }

  expectSignedIn(page: Page, what: string) {
    if (!this.signedIn) {
      const insecure = this.base.protocol === 'http:' && !isLoopback(this.base.hostname) && this.secureCookieDropped;
      fail(insecure ? `the session cookie is Secure, and the base URL is http://: a browser drops it (use the https:// URL)` : `no session cookie after ${what}`, page);
    }
    if (!/action="\/logout"/.test(page.html)) fail(`the page after ${what} does not show a signed-in user (no "Log out")`, page);
  }

  private secureCookieDropped = false;

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Page> {
    let url = new URL(path, this.base);
    let body: string | undefined = form ? new URLSearchParams(form).toString() : undefined;
    let redirects = 0;
    const hops = [`${method} ${url.pathname}${url.search}`];
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000);
    for (;;) {
      const headers: Record<string, string> = { accept: 'text/html', 'user-agent': 'bookstore-smoke/1 (infra/swarm/smoke)' };
      if (this.cookies.size) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      if (method === 'POST') Object.assign(headers, { origin: this.base.origin, 'content-type': 'application/x-www-form-urlencoded' });
      this.trace.request = hops.join(' → ');
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body, redirect: 'manual', signal: timeout, ...(this.options.insecure ? { tls: { rejectUnauthorized: false } } : {}) });
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${(this.options.requestTimeoutMs ?? 15_000) / 1000} s` : (error as Error).message;
        throw new RequestFailed(`${method} ${url.href}: ${reason}`);
      }
      this.keepCookies(url, response);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (++redirects > 10) throw new RequestFailed(`more than 10 redirects from ${path}`);
        url = new URL(location, url);
        // 301, 302, 303 turn a form post into a GET of the new page, as browsers do.
        if (response.status !== 307 && response.status !== 308) {
          method = 'GET';
          body = undefined;
        }
        hops.push(`${url.pathname}${url.search}`);
        continue;
      }
      const html = await response.text();
      return { status: response.status, path: url.pathname, url: url.href, html, redirects };
    }
  }

  private keepCookies(url: URL, response: Response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals);
      const value = pair.slice(equals + 1);
      const attribute = (key: string) => attributes.find((item) => item.toLowerCase().startsWith(key))?.split('=').slice(1).join('=');
      const maxAge = attribute('max-age');
      const expires = attribute('expires');
      const expired = value === '' || (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
      const secure = attributes.some((item) => item.toLowerCase() === 'secure');
      if (secure && url.protocol === 'http:' && !isLoopback(url.hostname)) {
        this.secureCookieDropped = true;
        continue;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

const isLoopback = (host: string) => host === 'localhost' || host.startsWith('127.') || host === '[::1]';

// --- reading pages ---------------------------------------------------------------------------

/** The ids of the books linked from a page, in order, once each. */
function bookLinks(html: string): number[] {
  return [...new Set([...html.matchAll(/href="\/books\/(\d+)"/g)].map((match) => Number(match[1])))];
}

/** The inside of the first form posting to `action`. */
function findForm(html: string, action: string): string | undefined {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    if (attributes(match[1]!).action === action) return match[2];
  }
  return undefined;
}

/** What the form sends as it stands: hidden and text inputs with a value, checked radios and boxes. */
function formValues(form: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const match of form.matchAll(/<input\b([^>]*)>/g)) {
    const input = attributes(match[1]!);
    const type = (input.type ?? 'text').toLowerCase();
    if (!input.name || input.value === undefined) continue;
    if ((type === 'radio' || type === 'checkbox') && !('checked' in input)) continue;
    values[input.name] = input.value;
  }
  return values;
}

function radioValues(form: string, name: string): string[] {
  return [...form.matchAll(/<input\b([^>]*)>/g)].map((match) => attributes(match[1]!)).filter((input) => input.type === 'radio' && input.name === name && input.value !== undefined).map((input) => input.value!);
}

function attributes(tag: string): Record<string, string | undefined> {
  const found: Record<string, string | undefined> = {};
  for (const match of tag.matchAll(/([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const value = match[2] ?? match[3] ?? match[4];
    found[match[1]!.toLowerCase()] = value === undefined ? '' : decodeEntities(value);
  }
  return found;
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, code: string) => {
    if (code[0] === '#') return String.fromCodePoint(code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : Number(code.slice(1)));
    return named[code.toLowerCase()] ?? entity;
  });
}

/** The first 300 characters of what a page says: its <main> if it has one, whitespace collapsed. */
function excerpt(html: string): string {
  const main = html.match(/<main\b[^>]*>([\s\S]*?)<\/main>/)?.[1] ?? html;
  return main.replace(/\s+/g, ' ').trim().slice(0, 300);
}

// --- command line ----------------------------------------------------------------------------

const usage = `Usage: infra/swarm/smoke --base-url URL [options]

The smoke journey against the web front at URL, as a browser without JavaScript: home, register
a new user, log out, log in, find a book in stock, open it, add it to the cart, see the cart,
check out, place the order, pay with the test card 4242 4242 4242 4242, see the order Paid.
One line per step (status, time); stops at the first failure, naming the step, with the
response's status and its first 300 characters.

Each run registers a user smoke-<time>-<random>@example.com and places one order.

Options:
  --base-url URL                 the shop, e.g. https://shop.example.com (required)
  --insecure                     accept a self-signed TLS certificate
  --seed-seller EMAIL:PASSWORD   when no book is in stock, log in as this seller and add one
                                 (or set SMOKE_SEED_SELLER, which 'ps' does not show)
  --json                         print the result as JSON instead of lines
  -h, --help                     this help

Exit status: 0 every step passed; 1 a step failed; 2 bad arguments.`;

interface Cli {
  baseUrl: string;
  json: boolean;
  options: SmokeOptions;
}

function parseArguments(args: string[]): Cli {
  let baseUrl = '';
  let json = false;
  let seller = process.env.SMOKE_SEED_SELLER ?? '';
  const options: SmokeOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--base-url') baseUrl = value();
    else if (arg.startsWith('--base-url=')) baseUrl = arg.slice('--base-url='.length);
    else if (arg === '--insecure') options.insecure = true;
    else if (arg === '--json') json = true;
    else if (arg === '--seed-seller') seller = value();
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!baseUrl) throw new Error('--base-url is required');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new Error(`--base-url ${baseUrl} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('--base-url must be http:// or https://');
  if (parsed.pathname !== '/' || parsed.search) throw new Error(`--base-url is the shop's root (${parsed.origin}), without a path`);
  if (seller) {
    const colon = seller.indexOf(':');
    if (colon <= 0 || colon === seller.length - 1) throw new Error('--seed-seller must be EMAIL:PASSWORD');
    options.seedSeller = { email: seller.slice(0, colon), password: seller.slice(colon + 1) };
  }
  return { baseUrl: parsed.href, json, options };
}

function stepLine(step: SmokeStep): string {
  const status = step.status === null ? '---' : String(step.status);
  return `${step.ok ? 'ok  ' : 'FAIL'}  ${step.name.padEnd(17)} ${status}  ${String(step.ms).padStart(6)} ms  ${step.request}`;
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  let cli: Cli;
  try {
    cli = parseArguments(args);
  } catch (error) {
    console.error(`smoke: ${(error as Error).message} (see --help)`);
    return 2;
  }
  const started = performance.now();
  const result = await runSmoke(cli.baseUrl, { ...cli.options, ...(cli.json ? {} : { onStep: (step) => console.log(stepLine(step)) }) });
  const total = Math.round(performance.now() - started);
  if (cli.json) console.log(JSON.stringify({ ...result, ms: total }, null, 2));
  const failed = result.steps.find((step) => !step.ok);
  if (failed) {
    const status = failed.status === null ? 'no response' : `status ${failed.status}`;
    console.error(`smoke: FAILED at step "${failed.name}" (${status}): ${failed.detail}${failed.body !== undefined ? `\n  response: ${failed.body}` : ''}`);
    return 1;
  }
  if (!cli.json) console.log(`smoke: passed, ${result.steps.length} steps in ${total} ms against ${result.baseUrl}: order ${result.orderId} paid`);
  return 0;
}

if (import.meta.main) process.exit(await main(Bun.argv.slice(2)));
