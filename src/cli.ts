import { SYSTEM } from './audit/audit.ts';
import { loadConfig } from './config.ts';
import { inTransaction, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { prepareDatabase } from './db/prepare.ts';
import { verificationReport } from './ledger/report.ts';
import { DomainError } from './lib/errors.ts';
import { loadReferenceData } from './reference/reference.ts';
import { bootstrapTreasury, createUser, ROLES, type Role } from './users/users.ts';

const HELP = `topslice operator commands (npm run cli -- <command>)

  migrate                         run pending database migrations
  load-fixtures                   load organisations, places and themes from fixtures/
  bootstrap [name]                create the first treasury user; prints its token last
  create-user <role> <name> [org] create a user (roles: ${ROLES.join(', ')}); prints its token last
  verify                          check the ledger and the audit chain (the same report as GET /api/v1/ledger/verify); exits 1 if anything is wrong
  help, --help                    this list

Exit codes: 0 done, 1 refused or failed, 2 a command or argument this CLI does not take.

Configuration comes from the environment: DATABASE_URL or DATABASE_PATH (see README).`;

/** Command → the most arguments it takes. */
const COMMANDS: Record<string, number> = {
  migrate: 0,
  'load-fixtures': 0,
  bootstrap: Number.POSITIVE_INFINITY,
  'create-user': 3,
  verify: 0,
};

/** A usage error: named, printed with the help, exit code 2. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return 0;
  }
  const most = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (most === undefined) throw new UsageError(`Unknown command: ${command}.`);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const option = args.find((a) => a.startsWith('-'));
  if (option) throw new UsageError(`Unknown option for ${command}: ${option}.`);
  if (args.length > most)
    throw new UsageError(`${command} takes ${most === 0 ? 'no arguments' : `at most ${most}`}; unexpected: ${args.slice(most).join(' ')}.`);
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
      if (!role) throw new UsageError('create-user needs a role and a name: create-user <role> <name> [organisationCode].');
      if (!ROLES.includes(role as Role)) throw new UsageError(`Invalid role: ${role}. The roles are ${ROLES.join(', ')}.`);
      if (!name) throw new UsageError('create-user needs a name after the role: create-user <role> <name> [organisationCode].');
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
        const report = await verificationReport(database.db, new Date());
        console.log(JSON.stringify(report, null, 2));
        return report.ok ? 0 : 1;
      } finally {
        await database.close();
      }
    }
    default:
      throw new UsageError(`Unknown command: ${command}.`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError) {
      console.error(`${error.message} See npm run cli -- --help.\n\n${HELP}`);
      process.exit(2);
    }
    if (error instanceof DomainError) {
      const fields = error.errors.map((e) => `\n  ${e.pointer ?? e.parameter ?? ''}: ${e.detail}`).join('');
      console.error(`${error.title}: ${error.message}${fields}`);
    } else if (/^Invalid configuration/.test((error as Error)?.message ?? '')) console.error((error as Error).message);
    else console.error(error);
    process.exit(1);
  },
);
