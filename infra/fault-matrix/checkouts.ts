/**
 * Buyers for the fault matrix: a few of them checking out one book at once through the real
 * purchase API (cart → order with an Idempotency-Key → payment with the approved test card), each
 * request sent again as a careful client would (same key, a short pause) until a final answer comes.
 * Every answer is kept, so a failing case can say what each buyer was told.
 *
 * @example
 * const checkouts = startCheckouts({ purchaseUrl, buyers, bookId: book.id, checkoutsPerBuyer: 3 });
 * await injectFault();
 * const outcome = await checkouts.done;
 */

export interface Buyer {
  userId: number;
  name: string;
  token: string;
}

export const approvedCard = { cardNumber: '4242 4242 4242 4242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Fault Matrix' };
/** Servientrega: any carrier will do. */
export const orderBody = { providerId: 4 };

/** An order a buyer was answered 201 for. */
export interface PlacedOrder {
  buyer: Buyer;
  /** The order's Idempotency-Key and the body sent with it. */
  key: string;
  body: object;
  orderId: string;
  quantity: number;
  /** The Idempotency-Key of the payment that was answered last. */
  payKey: string;
  /** 'paid' once the buyer was answered 200, else the last final answer about paying. */
  payment: string;
}

export interface CheckoutOutcome {
  placed: PlacedOrder[];
  /** 409s: the stock ran out, at the cart or at the order. */
  refused: string[];
  /** Answers a careful client should never get (a 500, a 400 or 401, an answer that is not JSON...). */
  unexpected: string[];
  /** Requests still without a final answer at the deadline: something hangs. */
  gaveUp: string[];
  requests: number;
  retries: number;
  /** What was sent again, and why: "PUT cart → 503 The catalog is not answering…" → how often. */
  retried: Map<string, number>;
}

export interface CheckoutsOptions {
  purchaseUrl: string;
  buyers: Buyer[];
  bookId: number;
  checkoutsPerBuyer: number;
  /** How long one request may take before the client gives up on it and sends it again (default 3 s). */
  clientTimeoutMs?: number;
  /** How long a buyer keeps trying before it gives up on a request (default 30 s). */
  deadlineMs?: number;
  /** Pause between two tries (default 150 ms). */
  retryPauseMs?: number;
}

type Reply = { status: number; body: Record<string, unknown> | null; text: string } | { error: string };

/** Not a final answer: the request may be sent again as it is. */
const sendAgain = (reply: Reply) => 'error' in reply || [502, 503, 504].includes(reply.status);

function describe(reply: Reply | undefined): string {
  if (!reply) return 'no answer';
  if ('error' in reply) return reply.error;
  const body = reply.body;
  const detail = typeof body?.detail === 'string' ? body.detail : typeof body?.status === 'string' ? `order ${body.status}` : reply.text.slice(0, 200);
  return `${reply.status} ${detail}`;
}

export function startCheckouts(options: CheckoutsOptions) {
  const clientTimeoutMs = options.clientTimeoutMs ?? 3000;
  const deadline = Date.now() + (options.deadlineMs ?? 30_000);
  const retryPauseMs = options.retryPauseMs ?? 150;
  const outcome: CheckoutOutcome = { placed: [], refused: [], unexpected: [], gaveUp: [], requests: 0, retries: 0, retried: new Map() };
  const progress = { inFlight: 0, answered: 0, timedOut: 0 };

  async function send(buyer: Buyer, method: string, path: string, body?: unknown, key?: string): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${buyer.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    progress.inFlight++;
    outcome.requests++;
    try {
      const response = await fetch(`${options.purchaseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(clientTimeoutMs) });
      const text = await response.text();
      let parsed: Record<string, unknown> | null = null;
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        if (response.status < 500) outcome.unexpected.push(`${method} ${path} → ${response.status} that is not JSON: ${text.slice(0, 200)}`);
      }
      return { status: response.status, body: parsed, text };
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') progress.timedOut++;
      return { error: `${(error as Error).name}: ${(error as Error).message}` };
    } finally {
      progress.inFlight--;
      progress.answered++;
    }
  }

  /** Sends until the answer is final (or the deadline passes: then null, noted in gaveUp). */
  async function untilFinal(what: string, step: string, attempt: () => Promise<Reply>, again: (reply: Reply) => boolean = sendAgain): Promise<Reply | null> {
    let reply: Reply | undefined;
    while (Date.now() < deadline) {
      reply = await attempt();
      if (!again(reply)) return reply;
      outcome.retries++;
      const why = `${step} → ${describe(reply).slice(0, 90)}`;
      outcome.retried.set(why, (outcome.retried.get(why) ?? 0) + 1);
      await Bun.sleep(retryPauseMs); // a client's pause before it tries again
    }
    outcome.gaveUp.push(`${what}: still no final answer after ${options.deadlineMs ?? 30_000} ms; last: ${describe(reply)}`);
    return null;
  }

  function unexpected(what: string, reply: Reply) {
    outcome.unexpected.push(`${what} → ${describe(reply)}`);
  }

  /** The cart holds `quantity` copies, then it is ordered and paid. */
  async function checkout(buyer: Buyer, quantity: number): Promise<void> {
    const who = `${buyer.name} (${quantity} of book ${options.bookId})`;
    const carted = await untilFinal(`${who}: PUT cart`, 'PUT cart', () => send(buyer, 'PUT', `/api/cart/items/${options.bookId}`, { quantity }));
    if (!carted || 'error' in carted) return;
    if (carted.status === 409) return void outcome.refused.push(`${who}: cart ${describe(carted)}`);
    if (carted.status !== 200) return unexpected(`${who}: PUT cart`, carted);
    await placeAndPay(buyer, who, orderBody, quantity);
  }

  async function placeAndPay(buyer: Buyer, who: string, body: object, quantity: number): Promise<void> {
    const key = `fault-order-${crypto.randomUUID()}`;
    const placed = await untilFinal(`${who}: POST /api/orders`, 'POST order', () => send(buyer, 'POST', '/api/orders', body, key));
    if (!placed || 'error' in placed) return;
    if (placed.status === 409) return void outcome.refused.push(`${who}: order ${describe(placed)}`);
    if (placed.status !== 201 || typeof placed.body?.id !== 'string') return unexpected(`${who}: POST /api/orders`, placed);
    // 202 (under way) and 409 "already under way" are asked again with the same key, which answers
    // how that payment ended; a 503 "nothing was charged" freed the key for another try.
    const payKey = `fault-pay-${crypto.randomUUID()}`;
    const order: PlacedOrder = { buyer, key, body, orderId: placed.body.id, quantity, payKey, payment: 'not answered' };
    outcome.placed.push(order);

    const underWay = (reply: Reply) => sendAgain(reply) || ('status' in reply && (reply.status === 202 || (reply.status === 409 && /under way/.test(describe(reply)))));
    const paid = await untilFinal(`${who}: pay ${order.orderId}`, 'pay', () => send(buyer, 'POST', `/api/orders/${order.orderId}/payment`, approvedCard, payKey), underWay);
    if (!paid || 'error' in paid) return;
    if (paid.status === 200 && paid.body?.status === 'paid') order.payment = 'paid';
    else if (paid.status === 409) order.payment = describe(paid); // expired or cancelled meanwhile: a final answer
    else {
      order.payment = describe(paid);
      unexpected(`${who}: pay ${order.orderId}`, paid);
    }
  }

  async function buyerRuns(buyer: Buyer, index: number) {
    for (let i = 0; i < options.checkoutsPerBuyer && Date.now() < deadline; i++) await checkout(buyer, 1 + ((index + i) % 2));
  }

  const running: Promise<void>[] = options.buyers.map(buyerRuns);
  return {
    /** Resolves once every buyer (and every order added with `orderTooMany`) is done. */
    async done(): Promise<CheckoutOutcome> {
      for (let settled = 0; settled < running.length; settled = running.length) await Promise.all(running);
      return outcome;
    },
    /**
     * `buyer` orders more copies than the book has, by items rather than the cart (whose check
     * would stop it first): catalog refuses the reservation, and purchase gives it back.
     */
    orderTooMany(buyer: Buyer, quantity: number): Promise<void> {
      const order = placeAndPay(buyer, `${buyer.name} (${quantity} of book ${options.bookId}, more than there are)`, { items: [{ bookId: options.bookId, quantity }], ...orderBody }, quantity);
      running.push(order);
      return order;
    },
    /** Requests sent and not answered yet. */
    get inFlight() {
      return progress.inFlight;
    },
    /** Requests that ended (answered, cut or timed out). */
    get answered() {
      return progress.answered;
    },
    /** Requests the client gave up waiting for. */
    get timedOut() {
      return progress.timedOut;
    },
    get placed() {
      return outcome.placed.length;
    },
  };
}
export type Checkouts = ReturnType<typeof startCheckouts>;
