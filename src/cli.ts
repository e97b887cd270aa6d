import { SYSTEM, verifyAuditChain } from './audit/audit.ts';
import { loadConfig } from './config.ts';
import { inTransaction, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { prepareDatabase } from './db/prepare.ts';
import { RENDER_HELP, renderCommand } from './documents/cli.ts';
import { createDocumentService } from './documents/service.ts';
import { verifyLedger } from './ledger/verify.ts';
import { DomainError } from './lib/errors.ts';
import { loadReferenceData } from './reference/reference.ts';
import { bootstrapTreasury, createUser, ROLES, type Role } from './users/users.ts';

const HELP = `topslice operator commands (npm run cli -- <command>)

  migrate                         run pending database migrations
  load-fixtures                   load organisations, places and themes from fixtures/
  bootstrap [name]                create the first treasury user; prints its token last
  create-user <role> <name> [org] create a user (roles: ${ROLES.join(', ')}); prints its token last
  verify                          check the ledger and the audit chain; exits 1 if anything is wrong
${RENDER_HELP}

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
        const { user, token } = await bootstrapTreasury(database.db, args.join(' ') || undefined);
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
          createUser(trx, { name, role: role as Role, organisationCode: org ?? null }, SYSTEM),
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
    case 'render': {
      const database = await prepareDatabase(config.database);
      const documents = createDocumentService({ browserPath: config.browserPath });
      try {
        return await renderCommand(database.db, documents, args);
      } finally {
        await documents.renderer.close();
        await database.close();
      }
    }
    default:
      console.log(HELP);
      return command && command !== 'help' ? 2 : 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof DomainError ? `${error.title}: ${error.message}` : error);
    process.exit(1);
  },
);
