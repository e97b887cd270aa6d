import { issueCheckpoint } from './audit/anchor.ts';
import { configureAuditKey, SYSTEM } from './audit/audit.ts';
import { verifyIntegrity } from './audit/integrity.ts';
import { loadConfig } from './config.ts';
import { inTransaction, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { prepareDatabase } from './db/prepare.ts';
import { DomainError } from './lib/errors.ts';
import { loadReferenceData } from './reference/reference.ts';
import { bootstrapTreasury, createUser, ROLES, type Role } from './users/users.ts';

const HELP = `topslice operator commands (npm run cli -- <command>)

  migrate                         run pending database migrations
  load-fixtures                   load organisations, places and themes from fixtures/
  bootstrap [name]                create the first treasury user; prints its token last
  create-user <role> <name> [org] create a user (roles: ${ROLES.join(', ')}); prints its token last
  verify                          check the ledger, the audit chain (against AUDIT_CHECKPOINT_PATH) and
                                  the two against each other; exits 1 if anything is wrong
  checkpoint                      sign the audit chain's head and append it to AUDIT_CHECKPOINT_PATH;
                                  prints it (keep a copy off this machine)

Configuration comes from the environment: DATABASE_URL or DATABASE_PATH, AUDIT_KEY (see README).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = loadConfig();
  configureAuditKey(config.auditKey);
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
        const v = await verifyIntegrity(database.db, { checkpointPath: config.auditCheckpointPath });
        console.log(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2));
        return v.ok ? 0 : 1;
      } finally {
        await database.close();
      }
    }
    case 'checkpoint': {
      const database = await prepareDatabase(config.database);
      try {
        console.log(JSON.stringify(await issueCheckpoint(database.db, config.auditCheckpointPath)));
      } finally {
        await database.close();
      }
      return 0;
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
