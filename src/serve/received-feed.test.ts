/**
 * The standing goal's feed from the dicom_handler, over real HTTP: the gateway's received-studies
 * list (a file journal) behind `dfa service dicom`'s routes, read by RemotePacs. While the gateway is
 * down the feed logs once and keeps polling; once it answers, the listed study is handed over,
 * acknowledged, and removed from the journal (which a reopen confirms) and from the store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../test/support/ports.ts';
import { loadConfig } from '../core/config.ts';
import { memoryLogger } from '../core/log.ts';
import type { Pacs, RetrievedInstance } from '../core/ports.ts';
import { ReceivedJournal, ReceivedStudies } from '../dicom/scp/received.ts';
import { bearerAuth } from '../net/http-auth.ts';
import { RemotePacs } from '../remote/pacs.ts';
import { ServiceClient } from '../remote/service-client.ts';
import { dicomService } from '../services/dicom.ts';
import { startService } from '../services/service-server.ts';
import { LocalArtifactStore } from '../storage/local-artifacts.ts';
import { ReceivedFeed } from './received-feed.ts';
import type { Trigger } from './standing-goal.ts';

const TOKEN = 'feed-test-token-0123456789abcdef';

test('received feed: polls a gateway that is down (logged once), then hands over, acknowledges and the journal forgets the study', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-feed-'));
  const store = new LocalArtifactStore(join(root, 'artifacts'));
  const gwLog = memoryLogger('info');
  const feedLog = memoryLogger('info');
  const port = await freePort();
  const client = new ServiceClient({ service: 'dicom_handler', baseUrl: `http://127.0.0.1:${port}`, auth: bearerAuth(TOKEN), timeoutMs: 2000 });
  const remote = new RemotePacs({ client, store, log: feedLog });
  const handed: { uid: string; instances: readonly RetrievedInstance[]; callers: readonly string[] }[] = [];
  const finished: string[] = [];
  const feed = new ReceivedFeed({
    source: remote,
    standing: {
      handleReceived: async (uid, instances, callers) => {
        handed.push({ uid, instances, callers });
        const trigger: Trigger = { studyInstanceUid: uid, instances: instances.length, forwarded: 0, runId: 'run-1' };
        return { trigger, inPacs: [...instances] };
      },
      finish: async (uid) => void finished.push(uid),
    },
    pollMs: 20,
    pollMaxMs: 80,
    retryMs: 20,
    retryMaxMs: 80,
    log: feedLog,
  });
  let passes = 0;
  let onPass: (() => void) | undefined;
  feed.onPass = () => {
    passes++;
    onPass?.();
  };
  const passesDone = (n: number) => new Promise<void>((r) => (onPass = () => passes >= n && r()));
  feed.start();
  try {
    await passesDone(5);
    assert.equal(feedLog.lines.filter((l) => l.includes('dicom_handler not answering')).length, 1, 'an outage is logged once');

    // The gateway comes up with one study already complete (its files in the shared store).
    const journalDir = join(root, 'gateway', 'received');
    const received = new ReceivedStudies({ journal: await ReceivedJournal.open(journalDir), store, quietMs: 10, log: gwLog });
    const study = '1.2.3.4';
    const recorded = new Promise<void>((r) => (received.onRecorded = () => r()));
    for (const sop of ['1.2.3.4.5.1', '1.2.3.4.5.2']) {
      const path = await store.put(`inbox/${study}/1.2.3.4.5/${sop}.dcm`, new Uint8Array([1, 2, 3]));
      received.received({ path, studyInstanceUid: study, seriesInstanceUid: '1.2.3.4.5', sopInstanceUid: sop, sopClassUid: '1.2.840.10008.5.1.4.1.1.2' }, { callingAet: 'CT1' });
    }
    await recorded;
    const cfg = loadConfig({ DFA_API_AUTH: 'token', DFA_API_TOKEN: TOKEN });
    const pacs = {} as Pacs; // no PACS call is made on these routes
    const svc = await startService(dicomService({ pacs, store, log: gwLog, received }), cfg, { host: '127.0.0.1', port, version: 'test', log: gwLog });
    try {
      const n = passes;
      while (finished.length === 0) await passesDone(n + 1);
      assert.equal(handed.length, 1);
      assert.equal(handed[0]!.uid, study);
      assert.deepEqual(handed[0]!.callers, ['CT1']);
      assert.deepEqual(handed[0]!.instances.map((i) => i.path).sort(), [`inbox/${study}/1.2.3.4.5/1.2.3.4.5.1.dcm`, `inbox/${study}/1.2.3.4.5/1.2.3.4.5.2.dcm`]);
      assert.ok(feedLog.lines.some((l) => l.includes('dicom_handler answers again')));
      assert.deepEqual(await store.list('inbox'), [], 'acknowledged: the inbox files are gone');
      const reopened = await ReceivedJournal.open(journalDir);
      assert.deepEqual(reopened.list(0, 10), [], 'acknowledged: the journal forgot it, across a reopen');
      // A later study gets a later id (the cursor of a running feed stays valid).
      const next = await reopened.append({ studyInstanceUid: '9.9', callingAets: ['CT1'], completedAt: new Date().toISOString(), instances: [] });
      assert.ok(next.id > 1);
      // Unauthenticated callers are refused, like every other route.
      assert.equal((await fetch(`${svc.url}/received`)).status, 401);
    } finally {
      await svc.close();
      await received.close();
    }
  } finally {
    await feed.close();
    await rm(root, { recursive: true, force: true });
  }
});
