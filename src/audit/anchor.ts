import { createHmac, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, Tx } from '../db/database.ts';
import { auditKey } from './audit.ts';

/*
 * Checkpoints anchor the audit chain outside the database. A checkpoint is the head's position
 * and hash at a moment, signed with an Ed25519 key derived from AUDIT_KEY. The service appends
 * each one to a file (AUDIT_CHECKPOINT_PATH: make it append-only, `chattr +a`, or ship it to
 * storage the database's operators cannot rewrite) and returns it, so an auditor can keep it too.
 * Verification checks that the chain still holds every checkpoint's entry with the same hash:
 * entries deleted from the end, with the head moved back, no longer match the last checkpoint.
 * The public key is published with each checkpoint so an auditor can check the signature alone.
 */

export interface Checkpoint {
  position: string;
  hash: string;
  at: string;
  /** Ed25519 public key (base64url, raw 32 bytes) that signs checkpoints. */
  publicKey: string;
  /** Ed25519 signature (base64url) of `position|hash|at`. */
  signature: string;
}

// The PKCS#8 and SPKI wrappers of a raw Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function signingKey(key = auditKey()) {
  const seed = createHmac('sha256', key).update('topslice audit checkpoint signing key').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: publicDer.subarray(publicDer.length - 32).toString('base64url') };
}

const message = (c: Pick<Checkpoint, 'position' | 'hash' | 'at'>) => Buffer.from(`${c.position}|${c.hash}|${c.at}`);

/** Whether a checkpoint's signature is good, under the given public key (by default its own). */
export function checkpointSignatureValid(c: Checkpoint, publicKey = c.publicKey): boolean {
  try {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey, 'base64url')]);
    return verify(null, message(c), createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(c.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** The public key checkpoints are signed with under the configured AUDIT_KEY. */
export function checkpointPublicKey(): string {
  return signingKey().publicKey;
}

/**
 * Signs the chain's current head and appends the checkpoint to `path` (when given).
 * Called by treasury or auditors (API) and operators (CLI); changes nothing in the database.
 */
export async function issueCheckpoint(db: Db | Tx, path: string | null, now = new Date()): Promise<Checkpoint> {
  const head = await db.selectFrom('audit_head').select(['position', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  const { privateKey, publicKey } = signingKey();
  const unsigned = { position: BigInt(head.position).toString(), hash: head.hash, at: now.toISOString() };
  const checkpoint: Checkpoint = { ...unsigned, publicKey, signature: sign(null, message(unsigned), privateKey).toString('base64url') };
  if (path) {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify(checkpoint)}\n`, { flag: 'a' });
  }
  return checkpoint;
}

/** The checkpoints kept in the file (one JSON object a line); a line that is not one is returned as a problem. */
export function readCheckpoints(path: string | null): { checkpoints: Checkpoint[]; unreadable: number[] } {
  if (!path || !existsSync(path)) return { checkpoints: [], unreadable: [] };
  const checkpoints: Checkpoint[] = [];
  const unreadable: number[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const c = JSON.parse(line) as Checkpoint;
        if (typeof c.position !== 'string' || typeof c.hash !== 'string' || typeof c.signature !== 'string') throw new Error('shape');
        checkpoints.push(c);
      } catch {
        unreadable.push(i + 1);
      }
    });
  return { checkpoints, unreadable };
}
