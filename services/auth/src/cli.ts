/**
 * Operator commands for auth, against DATABASE_URL:
 *
 *   bun services/auth/src/cli.ts migrate
 *   bun services/auth/src/cli.ts create-admin --email ada@example.com --name "Ada Admin"
 *
 * create-admin reads the password from ADMIN_PASSWORD (or ADMIN_PASSWORD_FILE), else from standard
 * input; an existing user with that email is promoted instead.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '@bookstore/shared/config';
import { openDatabase } from '@bookstore/shared/db';
import { createLogger } from '@bookstore/shared/log';
import { registerUser } from './accounts.ts';
import { authConfigSchema } from './config.ts';
import { User } from './entities.ts';
import { migrations } from './migrations/index.ts';
import { entities } from './entities.ts';
import { registerInput } from './schemas.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { email: { type: 'string' }, name: { type: 'string' } },
});
const command = positionals[0];
const config = loadConfig(authConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true }).extend({ ADMIN_PASSWORD: z.string().optional() }));
const log = createLogger({ service: 'auth-cli', level: config.LOG_LEVEL });

if (command !== 'migrate' && command !== 'create-admin') {
  console.error('usage: cli.ts migrate | create-admin --email EMAIL --name NAME');
  process.exit(64);
}
const orm = await openDatabase({ url: config.DATABASE_URL, entities, migrations, log });
try {
  if (command === 'create-admin') await createAdmin();
} finally {
  await orm.close();
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
