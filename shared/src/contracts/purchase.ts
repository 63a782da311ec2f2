/** The purchase service's contract: cart, orders, payment and sales as clients see them. */
import { z } from 'zod';
import { endpoint } from '../client.ts';
import { plainText } from '../validation.ts';
import { bookIdField } from './catalog.ts';

export const publicOrderStatuses = ['awaiting_payment', 'paid', 'shipped', 'cancelled', 'expired'] as const;
export type PublicOrderStatus = (typeof publicOrderStatuses)[number];

export const maxQuantity = 100;
const quantity = z.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(maxQuantity, `must be at most ${maxQuantity}`);

export const deliveryProvider = z.object({ id: z.number().int(), name: z.string(), scope: z.enum(['international', 'national']), priceCents: z.number().int() });
export type DeliveryProviderJson = z.infer<typeof deliveryProvider>;

export const providerId = z.number('must be a number').int('must be a whole number').min(1, 'must be a delivery provider id').max(2_147_483_647, 'must be a delivery provider id');

export const cartQuantityInput = z.object({ quantity: z.number('must be a number').int('must be a whole number').min(0, 'cannot be negative').max(maxQuantity, `must be at most ${maxQuantity}`) });

export const cart = z.object({
  items: z.array(z.object({ bookId: z.number().int(), title: z.string(), unitPriceCents: z.number().int(), quantity: z.number().int(), available: z.number().int() })),
  count: z.number().int(),
  subtotalCents: z.number().int(),
});
export type CartJson = z.infer<typeof cart>;

export const createOrderInput = z
  .object({
    items: z.array(z.object({ bookId: bookIdField, quantity })).min(1, 'must hold at least one book').max(50, 'must hold at most 50 books').optional(),
    providerId,
  })
  .strict();
export type CreateOrderInput = z.infer<typeof createOrderInput>;

export const deliveryInput = z.object({ providerId }).strict();

/** Luhn's check digit test: catches a mistyped card number before the gateway sees it. */
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

export const paymentInput = z
  .object({
    cardNumber: z
      .string('must be a string of digits')
      .transform((value) => value.replace(/[\s-]/g, ''))
      .pipe(z.string().regex(/^\d{12,19}$/, 'must be 12 to 19 digits').refine(luhnValid, 'is not a valid card number')),
    expMonth: z.number('must be a number').int('must be a whole number').min(1, 'must be 1 to 12').max(12, 'must be 1 to 12'),
    expYear: z.number('must be a number').int('must be a whole number').min(2000, 'must be a four-digit year').max(2100, 'must be a four-digit year'),
    cvc: z.string('must be a string of digits').regex(/^\d{3,4}$/, 'must be 3 or 4 digits'),
    holder: plainText().trim().min(1, 'is required').max(100, 'must be at most 100 characters'),
  })
  .strict()
  .refine((card) => new Date(Date.UTC(card.expYear, card.expMonth, 1)) > new Date(), { message: 'the card has expired', path: ['expYear'] });
export type PaymentInput = z.infer<typeof paymentInput>;

export const shipmentInput = z.object({ trackingCode: plainText().trim().max(100, 'must be at most 100 characters').optional() }).strict();

export const order = z.object({
  id: z.string(),
  status: z.enum(publicOrderStatuses),
  buyerId: z.number().int(),
  items: z.array(
    z.object({
      bookId: z.number().int(),
      title: z.string(),
      sellerId: z.number().int(),
      unitPriceCents: z.number().int(),
      quantity: z.number().int(),
      shippedAt: z.string().nullable(),
      trackingCode: z.string().nullable(),
    }),
  ),
  provider: z.object({ id: z.number().int(), name: z.string(), priceCents: z.number().int() }),
  subtotalCents: z.number().int(),
  deliveryCents: z.number().int(),
  totalCents: z.number().int(),
  payment: z.object({ last4: z.string(), status: z.string() }).nullable(),
  history: z.array(z.object({ status: z.string(), at: z.string() })),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
});
export type OrderJson = z.infer<typeof order>;

export const orderPage = z.object({ items: z.array(order), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() });
export type OrderPage = z.infer<typeof orderPage>;

export const sale = z.object({
  orderId: z.string(),
  bookId: z.number().int(),
  title: z.string(),
  quantity: z.number().int(),
  unitPriceCents: z.number().int(),
  buyerName: z.string(),
  provider: z.string(),
  status: z.enum(publicOrderStatuses),
  soldAt: z.string(),
  shippedAt: z.string().nullable(),
  trackingCode: z.string().nullable(),
});
export type SaleJson = z.infer<typeof sale>;

export const salePage = z.object({ items: z.array(sale), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() });

/** An item marked shipped, and its order's status after it (`shipped` once every item is). */
export const shipmentAnswer = z.object({
  orderId: z.string(),
  bookId: z.number().int(),
  shippedAt: z.string(),
  trackingCode: z.string().nullable(),
  orderStatus: z.enum(publicOrderStatuses),
});

/** `GET /api/sellers/:sellerId/open-items` (service token): items of the seller's books still owed to buyers. */
export const openItemsAnswer = z.object({ items: z.number().int() });

/** Calls other services make to purchase (auth, before deleting an account). */
export const purchaseApi = {
  openItems: endpoint({ method: 'GET', path: (p: { sellerId: number }) => `/api/sellers/${p.sellerId}/open-items`, answer: openItemsAnswer, idempotent: true }),
};
