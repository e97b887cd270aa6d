import { SYSTEM, verifyAuditChain } from './audit/audit.ts';
import { runCompliance } from './compliance/compliance.ts';
import { loadConfig } from './config.ts';
import { closeYear } from './credits/close.ts';
import { verifyCredits } from './credits/verify.ts';
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
${RENDER_HELP}
  verify                          check the ledger, the credits registry and the audit chain; exits 1 if anything is wrong
  close-year <fy>                 close a financial year: issue credits and obligations (running it again changes nothing)
  compliance <fy>                 run compliance for a closed year: surrenders and buy-outs (running it again changes nothing)

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
        const [ledger, audit, credits] = await Promise.all([
          verifyLedger(database.db),
          verifyAuditChain(database.db),
          verifyCredits(database.db),
        ]);
        const ok = ledger.ok && audit.ok && credits.ok;
        console.log(JSON.stringify({ ok, ledger, credits, audit }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
        return ok ? 0 : 1;
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
    case 'close-year':
    case 'compliance': {
      const [fy] = args;
      if (!fy) {
        console.error(`Usage: ${command} <financial year, e.g. 2026-27>`);
        return 2;
      }
      const database = await prepareDatabase(config.database);
      try {
        const now = new Date();
        if (command === 'close-year') {
          const { close, created } = await inTransaction(database.db, (trx) => closeYear(trx, fy, SYSTEM, null, now));
          console.log(created ? `Closed ${fy}.` : `${fy} was already closed on ${close.closedAt}; nothing changed.`);
          for (const d of close.departments) {
            console.log(
              `${d.departmentCode.padEnd(8)} verified ${d.verifiedCashablePence}p vs target ${d.savingsTargetPence}p: ${d.creditsIssued} credits issued, ${d.obligationCredits} owed`,
            );
          }
        } else {
          const { run, created } = await inTransaction(database.db, (trx) => runCompliance(trx, fy, SYSTEM, null, now));
          console.log(
            created
              ? `Compliance run for ${fy} at a ceiling of ${run.ceilingPence}p.`
              : `Compliance for ${fy} already ran on ${run.ranAt}; nothing changed.`,
          );
          for (const r of run.results) {
            console.log(
              `${r.departmentCode.padEnd(8)} ${r.status}: owed ${r.obligationCredits}, surrendered ${r.surrenderedCredits}, buy-out paid ${r.buyOutPaidPence}p, outstanding ${r.buyOutOutstandingPence}p`,
            );
          }
        }
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
