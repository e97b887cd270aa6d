import { SYSTEM, verifyAuditChain } from './audit/audit.ts';
import { type Config, loadConfig } from './config.ts';
import { inTransaction, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { prepareDatabase } from './db/prepare.ts';
import { verifyLedger } from './ledger/verify.ts';
import { DomainError } from './lib/errors.ts';
import { loadReferenceData } from './reference/reference.ts';
import { deactivateUser, listTokens, reissueToken, revokeUserTokens } from './users/tokens.ts';
import { bootstrapTreasury, createUser, ROLES, type Role } from './users/users.ts';

const HELP = `topslice operator commands (npm run cli -- <command>)

  migrate                         run pending database migrations
  load-fixtures                   load organisations, places and themes from fixtures/
  bootstrap [name]                create the first treasury user; prints its token last
  create-user <role> <name> [org] create a user (roles: ${ROLES.join(', ')}); prints its token last
  verify                          check the ledger and the audit chain; exits 1 if anything is wrong
  list-tokens <userId>            a user's tokens: status, expiry, last use (never the tokens)
  issue-token <userId>            issue a user a new token, revoking any they had; prints it last
  revoke-tokens <userId> <reason> revoke every live token of a user
  deactivate-user <userId> <reason>
                                  deactivate a user who has left: tokens revoked, none issued again

Configuration comes from the environment: DATABASE_URL or DATABASE_PATH (see README).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = loadConfig();
  switch (command) {
    case 'migrate': {
      const database = await openDatabase(config.database);
      try {
        const ran = await migrateToLatest(database.db, { schema: database.schema });
        console.log(ran.length ? `Applied: ${ran.join(', ')}` : 'Already up to date.');
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'load-fixtures': {
      const database = await openDatabase(config.database);
      try {
        await migrateToLatest(database.db, { schema: database.schema });
        const n = await loadReferenceData(database.db);
        console.log(`Loaded ${n.organisations} organisations, ${n.places} places, ${n.themes} themes.`);
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'bootstrap': {
      const database = await prepareDatabase(config.database);
      try {
        const { user, token } = await bootstrapTreasury(database.db, args.join(' ') || undefined, {
          tokenLifetimeDays: config.tokenLifetimeDays,
        });
        console.log(`Created treasury user ${user.name} (${user.userId}). Keep this token safe; it is shown once:`);
        console.log(token);
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'create-user': {
      const [role, name, org] = args;
      if (!role || !name || !ROLES.includes(role as Role)) {
        console.error(`Usage: create-user <${ROLES.join('|')}> <name> [organisationCode]`);
        return 2;
      }
      const database = await prepareDatabase(config.database);
      try {
        const { user, token } = await inTransaction(database.db, (trx) =>
          createUser(trx, { name, role: role as Role, organisationCode: org ?? null }, SYSTEM, null, new Date(), config.tokenLifetimeDays),
        );
        console.log(`Created ${user.role} user ${user.name} (${user.userId}). Token, shown once:`);
        console.log(token);
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'verify': {
      const database = await prepareDatabase(config.database);
      try {
        const [ledger, audit] = await Promise.all([verifyLedger(database.db), verifyAuditChain(database.db)]);
        console.log(JSON.stringify({ ok: ledger.ok && audit.ok, ledger, audit }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
        return ledger.ok && audit.ok ? 0 : 1;
      } finally {
        await database.close();
      }
    }
    case 'list-tokens':
    case 'issue-token':
    case 'revoke-tokens':
    case 'deactivate-user':
      return tokenCommand(config, command, args);
    default:
      console.log(HELP);
      return command && command !== 'help' ? 2 : 0;
  }
}

/** The operator's side of src/users/tokens.ts: the same operations as the API, audited as the system. */
async function tokenCommand(config: Config, command: string, args: string[]): Promise<number> {
  const [userId, ...rest] = args;
  const reason = rest.join(' ').trim();
  if (!userId || ((command === 'revoke-tokens' || command === 'deactivate-user') && !reason)) {
    console.error(`Usage: ${command} <userId>${command === 'revoke-tokens' || command === 'deactivate-user' ? ' <reason>' : ''}`);
    return 2;
  }
  const database = await prepareDatabase(config.database);
  try {
    const db = database.db;
    const now = new Date();
    switch (command) {
      case 'list-tokens':
        for (const t of await listTokens(db, userId, now)) {
          console.log(
            `${t.id}  ${t.status.padEnd(7)}  issued ${t.createdAt}  expires ${t.expiresAt}  last used ${t.lastUsedAt ?? 'never'}`,
          );
        }
        return 0;
      case 'issue-token': {
        const issued = await inTransaction(db, (trx) => reissueToken(trx, userId, SYSTEM, null, now, config.tokenLifetimeDays));
        console.log(`Issued token ${issued.record.id} for user ${userId}, expiring ${issued.record.expiresAt}. Token, shown once:`);
        console.log(issued.token);
        return 0;
      }
      case 'revoke-tokens': {
        const revoked = await inTransaction(db, (trx) => revokeUserTokens(trx, userId, reason, SYSTEM, null, now));
        console.log(`Revoked ${revoked.length} token(s) of user ${userId}.`);
        return 0;
      }
      default: {
        const done = await inTransaction(db, (trx) => deactivateUser(trx, userId, reason, SYSTEM, null, now));
        console.log(`Deactivated user ${userId} at ${done.deactivatedAt}; revoked ${done.revokedTokenIds.length} token(s).`);
        return 0;
      }
    }
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof DomainError ? `${error.title}: ${error.message}` : error);
    process.exit(1);
  },
);
