import { issueCheckpoint } from './audit/anchor.ts';
import { configureAuditKey, SYSTEM } from './audit/audit.ts';
import { runCompliance } from './compliance/compliance.ts';
import { type Config, loadConfig } from './config.ts';
import { closeYear } from './credits/close.ts';
import { inTransaction, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { prepareDatabase } from './db/prepare.ts';
import { RENDER_HELP, renderCommand } from './documents/cli.ts';
import { createDocumentService } from './documents/service.ts';
import { FIRST_FINANCIAL_YEAR, LAST_FINANCIAL_YEAR, parseFinancialYear } from './fund/fund.ts';
import { DomainError } from './lib/errors.ts';
import { formatCredits, formatPence } from './lib/money.ts';
import { loadReferenceData } from './reference/reference.ts';
import { deactivateUser, listTokens, reissueToken, revokeUserTokens } from './users/tokens.ts';
import { bootstrapTreasury, createUser, ROLES, type Role } from './users/users.ts';
import { verifyBooks } from './verify/report.ts';

const HELP = `topslice operator commands (npm run cli -- <command>)

  migrate                         run pending database migrations
  load-fixtures                   load organisations, places and themes from fixtures/
  bootstrap [name]                create the first treasury user; prints its token last
  create-user <role> <name> [org] create a user (roles: ${ROLES.join(', ')}); prints its token last
${RENDER_HELP}
  verify                          check the ledger, the credits registry, the audit chain (against
                                  AUDIT_CHECKPOINT_PATH) and ledger and audit against each other; exits 1 if anything is wrong
  checkpoint                      sign the audit chain's head and append it to AUDIT_CHECKPOINT_PATH;
                                  prints it (keep a copy off this machine)
  close-year <fy>                 close a financial year: issue credits and obligations (running it again changes nothing)
  compliance <fy>                 run compliance for a closed year: surrenders and buy-outs (running it again changes nothing)
  list-tokens <userId>            a user's tokens: status, expiry, last use (never the tokens)
  issue-token <userId>            issue a user a new token, revoking any they had; prints it last
  revoke-tokens <userId> <reason> revoke every live token of a user
  deactivate-user <userId> <reason>
                                  deactivate a user who has left: tokens revoked, none issued again
  help, --help                    this list

Exit codes: 0 done, 1 refused or failed, 2 a command or argument this CLI does not take.

Configuration comes from the environment: DATABASE_URL or DATABASE_PATH, AUDIT_KEY (see README).`;

/** Command → the most arguments it takes. */
const COMMANDS: Record<string, number> = {
  migrate: 0,
  'load-fixtures': 0,
  bootstrap: Number.POSITIVE_INFINITY,
  'create-user': 3,
  verify: 0,
  checkpoint: 0,
  render: Number.POSITIVE_INFINITY,
  'close-year': 1,
  compliance: 1,
  'list-tokens': 1,
  'issue-token': 1,
  'revoke-tokens': Number.POSITIVE_INFINITY,
  'deactivate-user': Number.POSITIVE_INFINITY,
};

/** Commands that read their own options (render takes `--out DIR`). */
const OWN_OPTIONS = new Set(['render']);

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
  const option = OWN_OPTIONS.has(command) ? undefined : args.find((a) => a.startsWith('-'));
  if (option) throw new UsageError(`Unknown option for ${command}: ${option}.`);
  if (args.length > most)
    throw new UsageError(`${command} takes ${most === 0 ? 'no arguments' : `at most ${most}`}; unexpected: ${args.slice(most).join(' ')}.`);
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
      if (!role) throw new UsageError('create-user needs a role and a name: create-user <role> <name> [organisationCode].');
      if (!ROLES.includes(role as Role)) throw new UsageError(`Invalid role: ${role}. The roles are ${ROLES.join(', ')}.`);
      if (!name) throw new UsageError('create-user needs a name after the role: create-user <role> <name> [organisationCode].');
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
        const report = await verifyBooks(database, new Date(), { checkpointPath: config.auditCheckpointPath });
        console.log(JSON.stringify(report, null, 2));
        return report.ok ? 0 : 1;
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
      if (!fy) throw new UsageError(`${command} needs a financial year: ${command} <financial year, e.g. 2026-27>.`);
      if (!parseFinancialYear(fy)) {
        throw new UsageError(
          `${fy} is not a financial year: name one as 2026-27 (April to March, ${FIRST_FINANCIAL_YEAR}-${LAST_FINANCIAL_YEAR}).`,
        );
      }
      const database = await prepareDatabase(config.database);
      try {
        const now = new Date();
        if (command === 'close-year') {
          const { close, created } = await inTransaction(database.db, (trx) => closeYear(trx, fy, SYSTEM, null, now));
          console.log(created ? `Closed ${fy}.` : `${fy} was already closed on ${close.closedAt}; nothing changed.`);
          for (const d of close.departments) {
            console.log(
              `${d.departmentCode.padEnd(8)} verified ${formatPence(d.verifiedCashablePence)} against a target of ${formatPence(d.savingsTargetPence)}: ${formatCredits(d.creditsIssued)} issued, ${formatCredits(d.obligationCredits)} owed`,
            );
          }
        } else {
          const { run, created } = await inTransaction(database.db, (trx) => runCompliance(trx, fy, SYSTEM, null, now));
          console.log(
            created
              ? `Compliance run for ${fy} at a ceiling of ${formatPence(run.ceilingPence)} a credit.`
              : `Compliance for ${fy} already ran on ${run.ranAt}; nothing changed.`,
          );
          for (const r of run.results) {
            console.log(
              `${r.departmentCode.padEnd(8)} ${r.status}: owed ${formatCredits(r.obligationCredits)}, surrendered ${formatCredits(r.surrenderedCredits)}, buy-out paid ${formatPence(r.buyOutPaidPence)}, outstanding ${formatPence(r.buyOutOutstandingPence)}`,
            );
          }
        }
      } finally {
        await database.close();
      }
      return 0;
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
    case 'list-tokens':
    case 'issue-token':
    case 'revoke-tokens':
    case 'deactivate-user':
      return tokenCommand(config, command, args);
    default:
      throw new UsageError(`Unknown command: ${command}.`);
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
