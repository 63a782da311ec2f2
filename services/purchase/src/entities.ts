/** What purchase owns. Orders, payments and their lifecycle come with the purchase issue. */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const deliveryScopes = ['international', 'national'] as const;

/** A carrier a buyer can pick; its price is added to the order total. */
export const DeliveryProvider = defineEntity({
  name: 'DeliveryProvider',
  tableName: 'delivery_providers',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100).unique(),
    scope: p.enum(deliveryScopes),
    priceCents: p.integer(),
  },
});
export type DeliveryProvider = InferEntity<typeof DeliveryProvider>;

export const entities = [DeliveryProvider];
