/** The circuit breaker on its own, with probes the test switches between answering and not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDfaError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { OutageGuard, waitingText } from './outage.ts';

const log = createLogger({ level: 'error' });
const opts = { waitMs: 60_000, probeMs: 10, probeMaxMs: 40, probeTimeoutMs: 200, log };

function switchable() {
  const s = { up: true, probes: 0, hang: false };
  const probe = async () => {
    s.probes++;
    if (s.hang) return new Promise<never>(() => undefined);
    if (!s.up) throw new Error('connect ECONNREFUSED 127.0.0.1:4242');
  };
  return { s, probe };
}

test('a fault while the upstream answers its probe is not an outage', async () => {
  const pacs = switchable();
  const g = new OutageGuard({ pacs: pacs.probe }, opts);
  assert.deepEqual(await g.down(['pacs', 'fhir']), [], 'FHIR has no probe: never taken as down');
  assert.deepEqual(g.outages(), []);
  assert.equal(pacs.s.probes, 1);
  g.close();
});

test('an upstream that does not answer: jobs wait, probes back off, all resume when it answers', async () => {
  const pacs = switchable();
  const g = new OutageGuard({ pacs: pacs.probe }, opts);
  pacs.s.up = false;
  const downs = await Promise.all([g.down(['pacs']), g.down(['pacs', 'dicomweb'])]);
  assert.deepEqual(downs, [['pacs'], ['pacs']]);
  assert.equal(pacs.s.probes, 1, 'concurrent callers share one probe');
  const [o] = g.outages();
  assert.equal(o.name, 'PACS');
  assert.match(waitingText(o), /^waiting for PACS since \d{4}-\d\d-\d\dT/);
  let resumed = 0;
  const waiters = [g.waitUp(['pacs']), g.waitUp(['pacs', 'fhir'])].map((p) => p.then(() => resumed++));
  while (pacs.s.probes < 4) await new Promise((r) => setTimeout(r, 5)); // probing again and again, with backoff
  assert.equal(resumed, 0, 'still down: nobody resumed');
  assert.ok((g.outages()[0]?.probes ?? 0) >= 3);
  pacs.s.up = true;
  await Promise.all(waiters);
  assert.equal(resumed, 2);
  assert.deepEqual(g.outages(), []);
  assert.deepEqual(await g.down(['pacs']), []);
  g.close();
});

test('a probe that hangs counts as no answer (probe timeout)', async () => {
  const fhir = switchable();
  fhir.s.hang = true;
  const g = new OutageGuard({ fhir: fhir.probe }, { ...opts, probeTimeoutMs: 30 });
  assert.deepEqual(await g.down(['fhir']), ['fhir']);
  assert.match(g.outages()[0].lastError ?? '', /no answer within 30 ms/);
  fhir.s.hang = false;
  await g.waitUp(['fhir']);
  g.close();
});

test('an outage longer than DFA_OUTAGE_WAIT: waiting jobs fail, saying since when', async () => {
  const pacs = switchable();
  pacs.s.up = false;
  const g = new OutageGuard({ pacs: pacs.probe }, { ...opts, waitMs: 80 });
  await g.down(['pacs']);
  await assert.rejects(g.waitUp(['pacs']), (e) => {
    assert.ok(isDfaError(e, 'SERVICE_UNREACHABLE'));
    assert.match(e.message, /^waiting for PACS since .+: no answer within DFA_OUTAGE_WAIT/);
    assert.match(e.message, /ECONNREFUSED/);
    return true;
  });
  g.close();
});
