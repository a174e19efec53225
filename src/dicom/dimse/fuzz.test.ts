/**
 * Fuzzing our DIMSE layer (issue 10 §1), seeded and bounded in count and time:
 * - our SCP (`dfa scp`, its own process) gets the malformed-PDU corpus and seeded mutations of
 *   valid association streams, split across random reads; after each case the process is alive,
 *   its memory bounded, and a real dcmtk echoscu succeeds;
 * - our SCU (C-ECHO, C-FIND, C-GET) talks to a hostile scripted PACS answering with mutated PDUs; every call settles
 *   (a value or a DfaError), in time, memory stays bounded, and a good association works after.
 * Cases per second are printed as test diagnostics. DFA_FUZZ_SEED / DFA_FUZZ_CASES replay or widen a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import {
  malformedCorpus, mutateStream, prng, randomChunks, validPacsFindReplies, validPacsGetReplies, validPacsReplies, validRequestorStream,
} from '../../../test/support/dimse-fuzz.ts';
import { freePort } from '../../../test/support/ports.ts';
import { DicomServer } from '../scp/server.ts';
import { PDU } from './pdu.ts';
import { DimseClient } from './scu.ts';

const run = promisify(execFile);
const DFA = fileURLToPath(new URL('../../../bin/dfa.js', import.meta.url));
const SEED = Number(process.env.DFA_FUZZ_SEED ?? 20261203);
const CASES = Number(process.env.DFA_FUZZ_CASES ?? 100); // per target; the SCU gets twice as many (no echoscu start-up, ~0.25 s, per case)
/** Stop adding cases after this long (the count is the bound; this keeps CI on a busy machine in check). */
const BUDGET_MS = 60_000;

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Send `chunks` on a fresh connection; close our side once the SCP closed its, or after `waitMs`. */
async function sendCase(port: number, chunks: Buffer[], waitMs: number): Promise<void> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  s.on('data', () => undefined);
  const closed = new Promise<void>((r) => {
    s.once('close', () => r());
    s.once('end', () => s.destroy());
  });
  await new Promise<void>((r) => s.once('connect', r).once('error', () => r()));
  for (const c of chunks) if (!s.destroyed) s.write(c);
  let t: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((r) => { t = setTimeout(r, waitMs); })]);
  clearTimeout(t);
  s.destroy();
  await closed;
}

test('fuzz: our SCP process survives the corpus and seeded mutations; echoscu answered after every case, memory bounded', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'dfa-fuzz-scp-'));
  const port = await freePort();
  const child = spawn(process.execPath, [DFA, 'scp'], {
    env: {
      ...process.env, DFA_DATA_DIR: dataDir, DFA_SCP_PORT: String(port), DFA_SCP_HOST: '127.0.0.1', DFA_LOG_LEVEL: 'warn',
      DFA_DIMSE_ASSOCIATION_TIMEOUT_MS: '1000', DFA_DIMSE_IDLE_TIMEOUT_MS: '2000', DFA_PACS_HOST: '', DFA_PACS_AET: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(); });
      child.once('exit', (code) => reject(new Error(`dfa scp exited ${code}: ${stderr}`)));
    });
    const r = prng(SEED);
    const valid = validRequestorStream('DFA', 'PACS');
    const corpus = malformedCorpus('DFA', 'PACS');
    const echo = async (label: string) => {
      const { stderr: out } = await run('echoscu', ['-v', '-aet', 'PACS', '-aec', 'DFA', '127.0.0.1', String(port)], { env: { ...process.env, TCP_NODELAY: '1' } });
      assert.match(out, /Echo Response \(Success\)/, label);
    };
    await sendCase(port, valid, 2000); // warm-up: one valid association (loads everything it uses)
    await echo('warm-up');
    const rss0 = rssMb(child.pid!);
    const started = Date.now();
    let sendMs = 0;
    let n = 0;
    for (; n < CASES && Date.now() - started < BUDGET_MS; n++) {
      let stream: Buffer[];
      if (n < corpus.length) {
        const c = corpus[n];
        stream = c.afterAssociation ? [valid[0], c.bytes] : [c.bytes];
      } else if (r.int(4) === 0) {
        const c = r.pick(corpus);
        stream = mutateStream(c.afterAssociation ? [valid[0], c.bytes] : [c.bytes], r);
      } else {
        stream = mutateStream(valid, r);
      }
      const t0 = Date.now();
      await sendCase(port, randomChunks(Buffer.concat(stream), r), 150);
      sendMs += Date.now() - t0;
      assert.equal(child.exitCode, null, `case ${n} (seed ${SEED}) ended the SCP process: ${stderr.slice(-2000)}`);
      await echo(`case ${n} (seed ${SEED})`);
    }
    const elapsed = Date.now() - started;
    const rss1 = rssMb(child.pid!);
    t.diagnostic(`SCP fuzz: ${n} cases in ${elapsed} ms with an echoscu after each (${(n / (elapsed / 1000)).toFixed(1)} cases/s); sending alone ${(n / (sendMs / 1000)).toFixed(1)} cases/s; RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MB`);
    assert.ok(n >= Math.min(CASES, corpus.length + 5), `only ${n} cases ran`); // the whole corpus, even on a busy machine
    assert.ok(rss1 - rss0 < 150, `RSS grew ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MB`);
    // Logged once per abort, never a stack trace.
    assert.ok(!/\n\s+at /.test(stderr), stderr.slice(0, 2000));
    assert.ok((stderr.match(/aborted association/g) ?? []).length <= n + 1);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** A PACS that answers in phases: on our A-ASSOCIATE-RQ, on our first P-DATA, on our A-RELEASE-RQ. */
async function hostilePacs(): Promise<{ port: number; next: (phases: Buffer[][], eager: boolean) => void; close(): Promise<void> }> {
  let phases: Buffer[][] = [[], [], []];
  let eager = false;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const mine = phases;
    if (eager) for (const p of mine) s.write(Buffer.concat(p));
    let buf = Buffer.alloc(0);
    let sentData = false;
    s.on('data', (d: Buffer) => {
      if (eager) return;
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 6 && buf.length >= 6 + buf.readUInt32BE(2)) {
        const type = buf[0];
        buf = buf.subarray(6 + buf.readUInt32BE(2));
        const phase = type === PDU.ASSOCIATE_RQ ? 0 : type === PDU.P_DATA_TF && !sentData ? 1 : type === PDU.RELEASE_RQ ? 2 : -1;
        if (phase === 1) sentData = true;
        if (phase >= 0 && !s.destroyed) for (const b of randomChunks(Buffer.concat(mine[phase]), prng(buf.length + phase))) s.write(b);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    next: (p, e) => { phases = p; eager = e; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('fuzz: our SCU against a hostile scripted PACS: every call settles with a value or a DfaError, memory bounded', async (t) => {
  const pacs = await hostilePacs();
  const good = await new DicomServer({ aet: 'GOOD', port: 0, handlers: {}, log: memoryLogger('error') }).start();
  try {
    const r = prng(SEED ^ 0x9e3779b9);
    const timeouts = { connectMs: 1000, associationMs: 200, dimseMs: 200, idleMs: 1000 };
    const client = new DimseClient({ host: '127.0.0.1', port: pacs.port, calledAet: 'PACS', callingAet: 'DFA', timeouts });
    const goodClient = new DimseClient({ host: '127.0.0.1', port: good.port, calledAet: 'GOOD', callingAet: 'DFA', timeouts });
    const split = (replies: Buffer[]): Buffer[][] => [[replies[0]], replies.slice(1, -1), [replies.at(-1)!]];
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    const started = Date.now();
    const outcomes = { value: 0, dfaError: 0 };
    const valuesBy = new Set<string>();
    let n = 0;
    for (; n < CASES * 2 && Date.now() - started < BUDGET_MS; n++) {
      const kind = r.pick(['echo', 'find', 'get'] as const);
      const valid = kind === 'echo' ? validPacsReplies('PACS', 'DFA') : kind === 'find' ? validPacsFindReplies('PACS', 'DFA') : validPacsGetReplies('PACS', 'DFA');
      const phases = split(valid);
      const k = r.int(3);
      phases[k] = mutateStream(phases[k], r);
      pacs.next(phases, r.int(8) === 0);
      const call = kind === 'echo' ? client.echo()
        : kind === 'find' ? client.find([{ QueryRetrieveLevel: 'STUDY', StudyInstanceUID: '' }])
          : client.get({ studyInstanceUid: '1.2.3.4' }, async (i) => (i.dataset.length >= 0 ? 0 : 0xa700));
      let guard: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        call.then(() => 'value', (e: unknown) => (isDfaError(e) ? 'dfaError' : e)),
        new Promise((res) => { guard = setTimeout(() => res('hung'), 5000); }),
      ]);
      clearTimeout(guard);
      assert.ok(settled === 'value' || settled === 'dfaError', `case ${n} (seed ${SEED}): ${settled instanceof Error ? settled.stack : String(settled)}`);
      outcomes[settled as 'value' | 'dfaError']++;
      if (settled === 'value') valuesBy.add(kind);
      assert.equal((await goodClient.echo()).kind, 'success', `case ${n}: a good association fails afterwards`);
    }
    const elapsed = Date.now() - started;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heap0) / 1048576;
    const rssGrowthMb = (process.memoryUsage().rss - rss0) / 1048576;
    t.diagnostic(`SCU fuzz: ${n} cases in ${elapsed} ms (${(n / (elapsed / 1000)).toFixed(1)} cases/s); ${outcomes.value} values, ${outcomes.dfaError} DfaErrors; heap +${heapGrowthMb.toFixed(1)} MB, RSS +${rssGrowthMb.toFixed(1)} MB`);
    assert.ok(n >= Math.min(CASES, 30), `only ${n} cases ran`);
    assert.ok(outcomes.dfaError > 0 && outcomes.value > 0, JSON.stringify(outcomes)); // the mutations bite, and some leave a valid exchange
    assert.deepEqual([...valuesBy].sort(), ['echo', 'find', 'get']); // each transcript works when its mutation is harmless
    assert.ok(heapGrowthMb < 100 && rssGrowthMb < 200, `heap +${heapGrowthMb} MB, RSS +${rssGrowthMb} MB`);
  } finally {
    await good.close();
    await pacs.close();
  }
});
