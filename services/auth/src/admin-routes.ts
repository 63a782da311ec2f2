/**
 * Handlers of the admin routes (the table heads app.ts): the JSON API, and the fragments and forms
 * the web front's admin pages are made of. Authorization is checked here, in auth, before any input
 * is read.
 */
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { ProblemError } from '@bookstore/shared/errors';
import { notice, queryString } from '@bookstore/shared/html';
import { readConsistencyHeader } from '@bookstore/shared/http';
import { readForm, validJson, validParams, validQuery } from '@bookstore/shared/validation';
import { z } from 'zod';
import { changeAccount, listAdminActions, listUsers, toAdminUserView, type AccountChange } from './administration.ts';
import { adminActionTable, adminRefusal, userTable } from './admin-fragments.ts';
import type { AuthEnv } from './app.ts';
import { adminOnly, currentCaller } from './callers.ts';
import { roles } from './entities.ts';
import { adminActionsPageQuery, adminActionsQuery, roleInput, userIdParam, userListPageQuery, userListQuery } from './schemas.ts';

const factory = createFactory<AuthEnv>();

// --- API -----------------------------------------------------------------------------------------

export const listUsersApi = factory.createHandlers(adminOnly, validQuery(userListQuery), async (c) => {
  return c.json(await listUsers(c.var.deps.orm, c.req.valid('query'), { log: c.var.deps.log }));
});

const changeApi = (change: (c: Context<AuthEnv>) => AccountChange) =>
  factory.createHandlers(adminOnly, validParams(userIdParam), async (c) => {
    const { user } = await changeAccount(c.var.em, actorOf(c), c.req.valid('param').id, change(c));
    return c.json(toAdminUserView(user));
  });

export const disableUserApi = changeApi(() => ({ kind: 'disable' }));
export const enableUserApi = changeApi(() => ({ kind: 'enable' }));

export const setRoleApi = factory.createHandlers(adminOnly, validParams(userIdParam), validJson(roleInput), async (c) => {
  const { user } = await changeAccount(c.var.em, actorOf(c), c.req.valid('param').id, { kind: 'set-role', role: c.req.valid('json').role });
  return c.json(toAdminUserView(user));
});

export const revokeSessionsApi = factory.createHandlers(adminOnly, validParams(userIdParam), async (c) => {
  const { revoked } = await changeAccount(c.var.em, actorOf(c), c.req.valid('param').id, { kind: 'revoke-sessions' });
  return c.json({ revoked });
});

export const deleteUserApi = factory.createHandlers(adminOnly, validParams(userIdParam), async (c) => {
  await changeAccount(c.var.em, actorOf(c), c.req.valid('param').id, { kind: 'delete' }, { openSaleItems: c.var.deps.openSaleItems });
  return c.body(null, 204);
});

export const listAdminActionsApi = factory.createHandlers(adminOnly, validQuery(adminActionsQuery), async (c) => {
  return c.json(await listAdminActions(c.var.deps.orm, c.req.valid('query'), { log: c.var.deps.log }));
});

// --- fragments -----------------------------------------------------------------------------------

export const usersFragment = factory.createHandlers(async (c) => {
  const refused = await refusal(c, 'see the user list');
  if (refused) return refused;
  const query = userListPageQuery.parse(c.req.query());
  c.header('cache-control', 'private, no-store');
  return c.html(userTable(await listUsers(c.var.deps.orm, query, listingOptions(c)), c.req.query('done')));
});

export const adminActionsFragment = factory.createHandlers(async (c) => {
  const refused = await refusal(c, 'see what admins did');
  if (refused) return refused;
  c.header('cache-control', 'private, no-store');
  return c.html(adminActionTable(await listAdminActions(c.var.deps.orm, adminActionsPageQuery.parse(c.req.query()), listingOptions(c))));
});

const formFields = z.object({
  q: z.string().max(254).catch(''),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
  role: z.enum(roles).optional().catch(undefined),
  confirm: z.literal('yes').optional().catch(undefined),
});

/**
 * A form on the user list: does the change, then sends the browser back to the list it came from
 * (303), saying what happened; a refusal (your own account, the last admin, no such user, a form
 * missing its choice: `change` answers why) is a page saying why.
 */
const changeForm = (done: string, change: (fields: z.infer<typeof formFields>) => AccountChange | { missing: string }) =>
  factory.createHandlers(async (c) => {
    const refused = await refusal(c, 'manage users');
    if (refused) return refused;
    const id = userIdParam.safeParse(c.req.param());
    const fields = formFields.parse(await readForm(c));
    if (!id.success) return c.html(adminRefusal('There is no such user.'), 404);
    const wanted = change(fields);
    if ('missing' in wanted) return c.html(adminRefusal(wanted.missing), 400);
    try {
      await changeAccount(c.var.em, actorOf(c), id.data.id, wanted, { openSaleItems: c.var.deps.openSaleItems });
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status >= 500) throw error;
      return c.html(adminRefusal(error.detail), error.status);
    }
    return c.redirect(`/admin/users${queryString({ q: fields.q, page: fields.page > 1 ? fields.page : undefined, done })}`, 303);
  });

export const disableForm = changeForm('disable', () => ({ kind: 'disable' }));
export const enableForm = changeForm('enable', () => ({ kind: 'enable' }));
export const roleForm = changeForm('role', (fields) => (fields.role ? { kind: 'set-role', role: fields.role } : { missing: 'Choose a role.' }));
export const revokeSessionsForm = changeForm('sessions', () => ({ kind: 'revoke-sessions' }));
// Deleting cannot be undone: the form asks to tick a box first, so it works the same without JavaScript.
export const deleteForm = changeForm('delete', (fields) =>
  fields.confirm ? { kind: 'delete' } : { missing: 'Nothing was deleted: tick "Yes, delete this account" to confirm that the account should go for good.' },
);

// --- helpers of this file -------------------------------------------------------------------

function actorOf(c: Context<AuthEnv>) {
  const admin = c.var.admin!;
  return { id: admin.userId, name: admin.name };
}

/** For fragments: nothing when the caller is an admin (then in `c.var.admin`), else the HTML answer saying why not. */
async function refusal(c: Context<AuthEnv>, what: string): Promise<Response | null> {
  const caller = await currentCaller(c);
  if (caller?.role === 'admin') {
    c.set('admin', caller);
    return null;
  }
  return c.html(notice(caller ? `Only administrators can ${what}.` : `Log in as an administrator to ${what}.`), caller ? 403 : 401);
}

/** The web front asks for the primary right after this admin changed something, so the list shows it. */
function listingOptions(c: Context<AuthEnv>) {
  return { primary: c.req.header(readConsistencyHeader) === 'primary', log: c.var.deps.log };
}
