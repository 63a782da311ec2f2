/**
 * The simulated card gateway, and purchase's client for it. The gateway is a small service of its
 * own (served by purchase under /gateway, service token only) with its own ledger: charges are keyed
 * by the payment id, so asking twice charges once; asking what became of a key that never arrived
 * voids it, so a late request cannot charge after purchase gave up on it. Test cards: BRIEF.md.
 */
import { Hono } from 'hono';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { z } from 'zod';
import { requireServiceToken } from '@bookstore/shared/auth';
import { endpoint, type ServiceClient } from '@bookstore/shared/client';
import type { Orm } from '@bookstore/shared/db';
import { paymentInput, type PaymentInput } from '@bookstore/shared/contracts/purchase';
import { describeRoute, type RouteAnswer } from '@bookstore/shared/openapi';
import { validJson, validParams } from '@bookstore/shared/validation';
import { problemResponse } from '@bookstore/shared/errors';
import { chargeOutcomes, GatewayCharge, type ChargeOutcome } from './entities.ts';
import { maxOrderTotalCents } from './saga.ts';
import { findRow, insertRows } from '@bookstore/shared/rows';

const testCards: Record<string, 'declined' | 'insufficient_funds' | 'error' | 'slow'> = {
  '4000000000000002': 'declined',
  '4000000000009995': 'insufficient_funds',
  '4000000000000119': 'error',
  '4000000000000077': 'slow',
};

const chargeKey = z.string().min(1).max(64);
/** Amounts are stored as 32-bit cents: more is refused here, never cut or failed in the database. */
const chargeInput = z.object({ key: chargeKey, amountCents: z.number().int().min(1).max(maxOrderTotalCents) }).and(paymentInput);
const chargeKeyParam = z.object({ key: chargeKey });
const chargeAnswer = z.object({ key: z.string(), outcome: z.enum(chargeOutcomes), refunded: z.boolean() });
const keyPath = (p: { key: string }) => `/gateway/charges/${encodeURIComponent(p.key)}`;

export const gatewayApi = {
  charge: endpoint({ method: 'POST', path: () => '/gateway/charges', body: chargeInput, answer: chargeAnswer, idempotent: true }),
  resolve: endpoint({ method: 'POST', path: (p: { key: string }) => `${keyPath(p)}/resolve`, answer: chargeAnswer, idempotent: true }),
  refund: endpoint({ method: 'POST', path: (p: { key: string }) => `${keyPath(p)}/refund`, answer: chargeAnswer, idempotent: true }),
};

const chargeAnswers: Record<number, RouteAnswer> = {
  200: ['approved (or approved before, under this key)', chargeAnswer],
  402: ['declined', chargeAnswer],
  409: ['the key was voided by a resolve: nothing charged', chargeAnswer],
  503: 'the card network did not answer: nothing charged',
};

const toAnswer = (charge: GatewayCharge) => ({ key: charge.chargeKey, outcome: charge.outcome, refunded: charge.refundedAt !== null });
const statusOf = (outcome: ChargeOutcome) => (outcome === 'approved' ? 200 : outcome === 'voided' ? 409 : 402);

/** The simulated gateway's routes; `slowMs` is how long the "slow" card takes to answer. */
export function simulatedGateway(options: { orm: Orm; serviceTokens: string[]; slowMs: number }) {
  const { orm } = options;
  return new Hono()
    .use(requireServiceToken(options.serviceTokens))
    .post('/charges', describeRoute({ summary: 'Charge a card once per key (test cards: BRIEF)', access: 'service', responses: chargeAnswers }), validJson(chargeInput), async (c) => {
      const input = c.req.valid('json');
      const card = testCards[input.cardNumber];
      if (card === 'error') {
        const earlier = await findRow(orm.em, GatewayCharge, { chargeKey: input.key });
        if (earlier) return c.json(toAnswer(earlier), statusOf(earlier.outcome));
        return problemResponse(503, 'The card network did not answer; nothing was charged');
      }
      const outcome: ChargeOutcome = card === 'declined' || card === 'insufficient_funds' ? card : 'approved';
      // Asked before (a retry, or a resolve that voided the key): that charge stands, answered at once.
      const { charge, created } = await recordCharge(orm, { chargeKey: input.key, amountCents: input.amountCents, last4: input.cardNumber.slice(-4), outcome });
      if (card === 'slow' && created && charge.outcome === 'approved') await Bun.sleep(options.slowMs); // charged, but answers late
      return c.json(toAnswer(charge), statusOf(charge.outcome));
    })
    .post('/charges/:key/resolve', describeRoute({ summary: 'What became of a charge: one that never arrived is voided, so it can never happen later', access: 'service', responses: { 200: ['the charge: its outcome says what became of it', chargeAnswer] } }), validParams(chargeKeyParam), async (c) => {
      // What became of this key? A charge that never arrived is voided now: it can never happen later.
      const { charge } = await recordCharge(orm, { chargeKey: c.req.valid('param').key, amountCents: 0, last4: '0000', outcome: 'voided' });
      return c.json(toAnswer(charge));
    })
    .post('/charges/:key/refund', describeRoute({ summary: 'Refund an approved charge; idempotent', access: 'service', responses: { 200: chargeAnswer, 404: 'no approved charge with this key' } }), validParams(chargeKeyParam), async (c) => {
      const em = orm.em.fork();
      const charge = await em.findOne(GatewayCharge, { chargeKey: c.req.valid('param').key });
      if (!charge || charge.outcome !== 'approved') return problemResponse(404, 'No approved charge with this key');
      charge.refundedAt ??= new Date();
      await em.flush();
      return c.json(toAnswer(charge));
    });
}

/** Records a charge under its key, unless one is there already: then that one stands (`created` false). */
async function recordCharge(orm: Orm, charge: Omit<GatewayCharge, 'createdAt' | 'refundedAt'>): Promise<{ charge: GatewayCharge; created: boolean }> {
  const row: GatewayCharge = { ...charge, refundedAt: null, createdAt: new Date() };
  try {
    await insertRows(orm.em, GatewayCharge, [row]);
    return { charge: row, created: true };
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    return { charge: (await findRow(orm.em, GatewayCharge, { chargeKey: charge.chargeKey }))!, created: false };
  }
}

/** What came of a charge, as the saga needs to tell it. */
export type ChargeResult =
  | { kind: 'approved' }
  | { kind: 'declined'; reason: string }
  /** Nothing was charged (the gateway said so, or the key is void): the buyer may try again. */
  | { kind: 'not-charged'; reason: string }
  /** No answer: the charge may or may not have happened. Ask again later; never undo on this. */
  | { kind: 'unknown'; reason: string };

const declineReasons: Partial<Record<ChargeOutcome, string>> = {
  declined: 'The card was declined. Try another card.',
  insufficient_funds: 'The card was declined: insufficient funds. Try another card.',
};

function resultOf(outcome: Awaited<ReturnType<ServiceClient['call']>>): ChargeResult {
  if (outcome.kind === 'ok' || (outcome.kind === 'problem' && chargeAnswer.safeParse(outcome.problem).success)) {
    const answer = chargeAnswer.parse(outcome.kind === 'ok' ? outcome.value : outcome.problem);
    if (answer.outcome === 'approved') return { kind: 'approved' };
    if (answer.outcome === 'voided') return { kind: 'not-charged', reason: 'The payment was not completed; nothing was charged.' };
    return { kind: 'declined', reason: declineReasons[answer.outcome]! };
  }
  if (outcome.kind === 'not-sent') return { kind: 'not-charged', reason: 'The payment service could not be reached; nothing was charged.' };
  if (outcome.kind === 'problem' && outcome.status !== 404) return { kind: 'not-charged', reason: outcome.problem.detail ?? 'The payment was refused.' };
  return { kind: 'unknown', reason: outcome.kind === 'unknown' ? outcome.reason : 'no such charge' };
}

export interface Gateway {
  charge(key: string, amountCents: number, card: PaymentInput): Promise<ChargeResult>;
  /** What became of a charge; one that never arrived is voided, so the answer is final but for `unknown`. */
  resolve(key: string): Promise<ChargeResult>;
  refund(key: string): Promise<'refunded' | 'unknown'>;
}

/** @example const gateway = gatewayClient(createServiceClient(http, { attempts: 1 })); */
export function gatewayClient(client: ServiceClient): Gateway {
  return {
    async charge(key, amountCents, card) {
      const outcome = await client.call(gatewayApi.charge, { body: { key, amountCents, ...card } }, { attempts: 1 });
      // A 503 from the gateway itself says nothing was charged; a 5xx we cannot read is unknown.
      if (outcome.kind === 'unknown' && /answered 503/.test(outcome.reason)) return { kind: 'not-charged', reason: 'The card network did not answer; nothing was charged. Please try again.' };
      return resultOf(outcome);
    },
    async resolve(key) {
      // Only an answer settles it: a question that did not arrive says nothing about the charge.
      const outcome = await client.call(gatewayApi.resolve, { params: { key } });
      return outcome.kind === 'ok' ? resultOf(outcome) : { kind: 'unknown', reason: outcome.kind === 'problem' ? `resolve refused: ${outcome.status}` : outcome.reason };
    },
    async refund(key) {
      const outcome = await client.call(gatewayApi.refund, { params: { key } });
      return outcome.kind === 'ok' ? 'refunded' : 'unknown';
    },
  };
}
