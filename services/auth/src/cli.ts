/**
 * Operator commands for auth, against DATABASE_URL:
 *
 *   bun services/auth/src/cli.ts migrate
 *   bun services/auth/src/cli.ts create-admin --email ada@example.com --name "Ada Admin"
 *   bun services/auth/src/cli.ts disable|enable|revoke-sessions|delete --email X --by "Operator Name"
 *   bun services/auth/src/cli.ts set-role --email X --role admin|customer --by "Operator Name"
 *
 * create-admin reads the password from ADMIN_PASSWORD (or ADMIN_PASSWORD_FILE), else from standard
 * input; an existing user with that email is promoted instead. The account commands do what an
 * admin does on the admin pages (disabling and a role change end the user's sessions everywhere;
 * deleting also wipes the account's name, email and password for good, and catalog retires its
 * books; with PURCHASE_URL and SERVICE_TOKEN set it first asks purchase whether the account's books
 * still owe buyers anything, and refuses if so), and are recorded in admin_actions with `--by`.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '@bookstore/shared/config';
import { openDatabase } from '@bookstore/shared/db';
import { createLogger } from '@bookstore/shared/log';
import { ProblemError } from '@bookstore/shared/errors';
import { registerUser } from './accounts.ts';
import { changeAccount, openSaleItemsAt, sessionsEnded, type AccountChange } from './administration.ts';
import { authConfigSchema } from './config.ts';
import { entities, roles, User } from './entities.ts';
import { migrations } from './migrations/index.ts';
import { registerInput } from './schemas.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, by: { type: 'string' } },
});
const command = positionals[0] ?? '';
const accountCommands = ['disable', 'enable', 'set-role', 'revoke-sessions', 'delete'];
const usage = 'usage: cli.ts migrate | create-admin --email EMAIL --name NAME | disable|enable|revoke-sessions|delete --email EMAIL --by OPERATOR | set-role --email EMAIL --role admin|customer --by OPERATOR';
const config = loadConfig(
  authConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true }).extend({
    ADMIN_PASSWORD: z.string().optional(),
    // With both, `delete` asks purchase first whether the account's books still owe buyers anything.
    PURCHASE_URL: z.url().optional(),
    SERVICE_TOKEN: z.string().optional(),
  }),
);
const log = createLogger({ service: 'auth-cli', level: config.LOG_LEVEL });

if (command !== 'migrate' && command !== 'create-admin' && !accountCommands.includes(command)) {
  console.error(usage);
  process.exit(64);
}
const change = accountCommands.includes(command) ? accountChange() : null;
const orm = await openDatabase({ url: config.DATABASE_URL, entities, migrations, log });
try {
  if (command === 'create-admin') await createAdmin();
  if (change) await changeAccountByEmail(change);
} finally {
  await orm.close();
}

/** The change an account command asks for, checked before the database is opened; exits 64 when the arguments are wrong. */
function accountChange(): AccountChange {
  const problems: string[] = [];
  if (!values.email) problems.push('--email is required');
  if (!values.by?.trim()) problems.push('--by is required: the name of who runs this, for the record of admin actions');
  const role = z.enum(roles).safeParse(values.role);
  if (command === 'set-role' && !role.success) problems.push(`--role must be one of ${roles.join(', ')}`);
  if (problems.length) {
    console.error(`${problems.join('\n')}\n${usage}`);
    process.exit(64);
  }
  if (command === 'set-role') return { kind: 'set-role', role: role.data! };
  return { kind: command as 'disable' | 'enable' | 'revoke-sessions' | 'delete' };
}

async function changeAccountByEmail(wanted: AccountChange) {
  const em = orm.em.fork();
  const email = values.email!.trim().toLowerCase();
  const user = await em.findOne(User, { email });
  if (!user) {
    console.error(`no user with the email ${email}`);
    process.exit(65);
  }
  try {
    const { user: changed, revoked } = await changeAccount(em, { id: null, name: `${values.by!.trim()} (command line)` }, user.id, wanted, { openSaleItems: openSaleItems(wanted) });
    const state = wanted.kind === 'set-role' ? `now ${changed.role}` : changed.deletedAt ? 'deleted' : changed.disabledAt ? 'disabled' : 'enabled';
    console.log(wanted.kind === 'enable' ? `${email} is ${state}` : `${email} is ${state}; ${sessionsEnded(revoked)}`);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    console.error(`${email}: ${error.detail}`);
    process.exit(65);
  }
}

/** For `delete`: purchase's count of what the account's books still owe buyers, when PURCHASE_URL and SERVICE_TOKEN say where and how to ask. */
function openSaleItems(wanted: AccountChange) {
  if (wanted.kind !== 'delete') return undefined;
  if (!config.PURCHASE_URL || !config.SERVICE_TOKEN) {
    console.error('note: sales still to ship were not checked (set PURCHASE_URL and SERVICE_TOKEN to have purchase asked first)');
    return undefined;
  }
  return openSaleItemsAt(config.PURCHASE_URL, config.SERVICE_TOKEN, 5000);
}

async function createAdmin() {
  const password = config.ADMIN_PASSWORD ?? (await Bun.stdin.text()).trim();
  const input = registerInput.safeParse({ email: values.email, name: values.name ?? 'Administrator', password });
  if (!input.success) {
    console.error(input.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'));
    process.exit(65);
  }
  const em = orm.em.fork();
  const existing = await em.findOne(User, { email: input.data.email });
  if (existing) {
    existing.role = 'admin';
    await em.flush();
    console.log(`${existing.email} is now an administrator`);
  } else {
    const user = await registerUser(em, input.data, 'admin');
    console.log(`administrator ${user.email} created`);
  }
}
