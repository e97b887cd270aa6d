import { issueCheckpoint } from './audit/anchor.ts';
import { configureAuditKey, SYSTEM } from './audit/audit.ts';
import { verifyIntegrity } from './audit/integrity.ts';
import { runCompliance } from './compliance/compliance.ts';
import { type Config, loadConfig } from './config.ts';
import { closeYear } from './credits/close.ts';
import { verifyCredits } from './credits/verify.ts';
import { inTransaction, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { prepareDatabase } from './db/prepare.ts';
import { RENDER_HELP, renderCommand } from './documents/cli.ts';
import { createDocumentService } from './documents/service.ts';
import { DomainError } from './lib/errors.ts';
import { loadReferenceData } from './reference/reference.ts';
import { deactivateUser, listTokens, reissueToken, revokeUserTokens } from './users/tokens.ts';
import { bootstrapTreasury, createUser, ROLES, type Role } from './users/users.ts';

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
        const [v, credits] = await Promise.all([
          verifyIntegrity(database.db, { checkpointPath: config.auditCheckpointPath }),
          verifyCredits(database.db),
        ]);
        const ok = v.ok && credits.ok;
        console.log(JSON.stringify({ ...v, ok, credits }, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2));
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
