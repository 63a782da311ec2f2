/** The carriers a buyer picks from: the list (a replica may serve it), and one by id. */
import type { DeliveryProviderJson } from '@bookstore/shared/contracts/purchase';
import { readWithFallback, type Orm } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import type { Logger } from '@bookstore/shared/log';
import { DeliveryProvider } from './entities.ts';
import { findRow } from '@bookstore/shared/rows';

/** Every carrier, dearest first. */
export async function deliveryProviders(orm: Orm, log?: Logger): Promise<DeliveryProviderJson[]> {
  const providers = await readWithFallback(orm, (em, connectionType) => em.find(DeliveryProvider, {}, { orderBy: { priceCents: 'desc' }, connectionType }), log);
  return providers.map(({ id, name, scope, priceCents }) => ({ id, name, scope, priceCents }));
}

/** The carrier with this id, or 400 naming the field. */
export async function providerOrFail(orm: Orm, providerId: number): Promise<DeliveryProvider> {
  const provider = await findRow(orm.em, DeliveryProvider, { id: providerId });
  if (!provider) throw new ProblemError(400, 'Choose one of the delivery providers', { errors: { providerId: 'is not a delivery provider' } });
  return provider;
}
