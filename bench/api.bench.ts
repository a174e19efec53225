/**
 * `npm run bench:api` — REST API request latency with each DFA_API_AUTH mode: none, token, and
 * oidc (RS256 JWT checked against a JWKS discovered from an issuer served on loopback, keys cached
 * after the first request, as in production). The API is the real one (`buildApi`) on the embedded
 * PostgreSQL with the real audit store, over a real loopback socket with keep-alive; each mode gets
 * BENCH_REQUESTS (default 2000) sequential GET /runs after BENCH_WARMUP (default 200) warm-up
 * requests, the modes taking turns request by request, and reports p50 / p99 / mean in milliseconds. A second table times `authenticate()`
 * alone (the auth cost without HTTP or the database). Prints markdown.
 *
 *   npm run bench:api
 *   BENCH_REQUESTS=5000 npm run bench:api
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { apiAuthFromConfig, type ApiAuthenticator } from '../src/net/api-auth.ts';
import { buildApi } from '../src/api/server.ts';
import { AuditStore } from '../src/storage/audit.ts';
import { openDatabase } from '../src/storage/db.ts';
import { eventsAfter, getRun } from '../src/storage/run-queries.ts';
import { envInt } from './support/bench-stats.ts';

const N = envInt('BENCH_REQUESTS', 2000);
const WARMUP = envInt('BENCH_WARMUP', 200, 0);
const TOKEN = 'bench-token-0123456789abcdef';

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (x: number) => x.toFixed(3);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-bench-api-'));
  const cfg = loadConfig({ DFA_DATA_DIR: dir });
  const db = await openDatabase(cfg);
  const keys = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const idp = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url?.endsWith('/.well-known/openid-configuration')) return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}/realm`;
  const jwt = await new SignJWT({ roles: ['viewer'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(issuer)
    .setAudience('dfa')
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(keys.privateKey);
  const modes: { name: string; auth: ApiAuthenticator; header?: string }[] = [
    { name: 'none', auth: apiAuthFromConfig(loadConfig({})) },
    { name: 'token', auth: apiAuthFromConfig(loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN })), header: `Bearer ${TOKEN}` },
    { name: 'oidc (RS256)', auth: apiAuthFromConfig(loadConfig({ DFA_API_AUTH: 'oidc', DFA_API_OIDC_ISSUER: issuer, DFA_API_OIDC_AUDIENCE: 'dfa' })), header: `Bearer ${jwt}` },
  ];
  const audit = new AuditStore(db.pool);
  for (let i = 0; i < 5; i++) await audit.startRun({ runId: `bench-${i}`, goal: 'Analyze all pending CT scans', plan: {}, planKey: 'k', startedBy: 'bench' });

  const rows: string[] = [];
  const authRows: string[] = [];
  const apps = [];
  try {
    for (const m of modes) {
      const app = buildApi({
        version: 'bench',
        plan: async () => Promise.reject(new Error('not used')),
        startRun: async () => Promise.reject(new Error('not used')),
        audit,
        getRun: (id) => getRun(db.pool, id),
        eventsAfter: (a, runId) => eventsAfter(db.pool, a, runId),
        readiness: async () => ({}),
        log: createLogger({ level: 'error' }),
        auth: m.auth,
        ratePerMinute: 1_000_000,
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      apps.push(app);
    }
    // Round-robin over the modes, one request each per round: on a shared machine, load changes
    // over time hit every mode alike.
    const times = modes.map(() => [] as number[]);
    for (let i = 0; i < WARMUP + N; i++) {
      for (const [k, m] of modes.entries()) {
        const url = `http://127.0.0.1:${(apps[k].server.address() as { port: number }).port}/runs`;
        const t0 = performance.now();
        const res = await fetch(url, { headers: m.header ? { authorization: m.header } : {} });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${m.name}: HTTP ${res.status}`);
        if (i >= WARMUP) times[k].push(performance.now() - t0);
      }
    }
    for (const [k, m] of modes.entries()) {
      const t = times[k].sort((a, b) => a - b);
      const mean = t.reduce((a, b) => a + b, 0) / t.length;
      rows.push(`| ${m.name} | ${N} | ${ms(pct(t, 50))} | ${ms(pct(t, 99))} | ${ms(mean)} |`);
      const alone: number[] = [];
      for (let i = 0; i < WARMUP + N; i++) {
        const t0 = performance.now();
        await m.auth.authenticate(m.header);
        if (i >= WARMUP) alone.push(performance.now() - t0);
      }
      alone.sort((a, b) => a - b);
      authRows.push(`| ${m.name} | ${ms(pct(alone, 50))} | ${ms(pct(alone, 99))} |`);
    }
  } finally {
    for (const app of apps) await app.close();
    await db.close();
    await new Promise((r) => idp.close(r));
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`REST API latency, GET /runs (5 runs in the table), sequential, keep-alive, loopback; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
  console.log('');
  console.log('| DFA_API_AUTH | requests | p50 ms | p99 ms | mean ms |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('');
  console.log('authenticate() alone');
  console.log('');
  console.log('| DFA_API_AUTH | p50 ms | p99 ms |');
  console.log('|---|---|---|');
  for (const r of authRows) console.log(r);
}

await main();
