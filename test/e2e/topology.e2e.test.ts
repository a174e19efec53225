/**
 * The deployment's topology (docker-compose.yml) as separate OS processes on loopback: storage
 * service on a real S3-protocol server, two ml_processor replicas, the DICOM gateway (our SCP) in
 * front of a real Orthanc, the FHIR handler in front of the embedded FHIR server, a real
 * PostgreSQL queue, two `dfa worker` processes, and `dfa run --workers 0` that plans, enqueues and
 * waits (test/support/topology.ts). The reference goal runs end to end: results once; one ml replica
 * is SIGKILLed while it segments and no job is lost; a second run adds nothing; `dfa serve` (the
 * API) on the same services is ready and lists both runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { waitReady } from '../../src/serve/service-process.ts';
import { freePort } from '../support/ports.ts';
import { join } from 'node:path';
import { filesBelow } from '../../src/io/files-below.ts';
import { startTopologyWorld, TOPOLOGY_TOKEN } from '../support/topology.ts';
import { count, GOAL, rtstructInstances } from './world.ts';

interface RunJson {
  summary: Record<string, number>;
  jobs: { studyInstanceUid: string; status: string; reason?: string }[];
}

const SEGMENT_REQUEST = /segment request/;

test('topology on loopback: the reference goal through every service; a killed ml replica loses no job; a second run adds nothing', { timeout: 600_000 }, async () => {
  const t = await startTopologyWorld({ ctStudies: 3, mlReplicas: 2 });
  const { world: w, topo } = t;
  const diag = () => topo.all.map((p) => `--- ${p.name}\n${p.output().slice(-1500)}`).join('\n');
  try {
    const workers = [await t.agent('worker-0', ['worker', '--concurrency', '1']), await t.agent('worker-1', ['worker', '--concurrency', '1'])];
    await Promise.all(workers.map((p) => p.waitFor(/worker started/, 60_000)));
    const logs = () => `${diag()}\n${workers.map((p) => `--- ${p.name}\n${p.output().slice(-1500)}`).join('\n')}`;

    const first = await t.agent('runner', ['run', '--json', '--workers', '0', GOAL]);
    // SIGKILL the replica that takes the first segmentation, while it works on it.
    const victim = await Promise.race(topo.ml.map((m) => m.waitFor(SEGMENT_REQUEST, 300_000).then(() => m)));
    await victim.stop('SIGKILL');
    const killedMidRequest = victim.output().split('\n').filter((l) => SEGMENT_REQUEST.test(l)).length > victim.output().split('\n').filter((l) => /segmented/.test(l)).length;
    await first.exited;
    const out = first.output();
    const r = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as RunJson;
    assert.deepEqual(r.summary, { succeeded: 3, failed: 1, skipped: 1, review: 0 }, `${JSON.stringify(r.jobs)}\n${logs()}`);
    assert.ok(killedMidRequest, `${victim.name} was killed while it segmented:\n${victim.output().slice(-2000)}`);
    const survivor = topo.ml.find((m) => m !== victim)!;
    assert.match(survivor.output(), /segmented/, 'the other replica did the segmentations');
    for (const s of w.seeded) {
      assert.equal(r.jobs.find((j) => j.studyInstanceUid === s.studyInstanceUid)?.status, s.expected, s.label);
      assert.equal((await rtstructInstances(w, s.studyInstanceUid)).length, s.kind === 'ct' ? 1 : 0, `${s.label}: one RTSTRUCT per CT study in Orthanc`);
    }
    const reports = await count(w, 'DiagnosticReport');
    assert.equal(reports, 3, 'one DiagnosticReport per CT study');
    // The artifacts went to the object store through the storage service.
    const listed = await t.s3.client().send(new ListObjectsV2Command({ Bucket: t.s3.bucket, Prefix: 'topology/' }));
    assert.ok((listed.KeyCount ?? 0) > 0, 'artifacts in the S3-protocol store');
    // The studies passed through the dicom_handler and the surviving ml_processor: neither keeps a
    // copy (the killed replica may: it died while it fetched).
    for (const name of ['dicom', survivor.name]) {
      const kept = (await filesBelow(join(w.root, 'services', name))).filter((f) => f.endsWith('.dcm'));
      assert.deepEqual(kept, [], `${name} keeps no DICOM of the studies it passed on`);
    }

    const second = await t.agent('runner', ['run', '--json', '--workers', '0', GOAL]);
    await second.exited;
    for (const s of w.seeded.filter((x) => x.kind === 'ct')) assert.equal((await rtstructInstances(w, s.studyInstanceUid)).length, 1, `${s.label}: still one RTSTRUCT`);
    assert.equal(await count(w, 'DiagnosticReport'), reports, 'no second DiagnosticReport');

    // The agent API container's role: `dfa serve` on the same services and database sees both runs.
    const apiPort = await freePort();
    const api = await t.agent('api', ['serve'], { DFA_API_PORT: String(apiPort), DFA_API_HOST: '127.0.0.1' });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitReady({ ...api, url: apiUrl }, { timeoutMs: 120_000 });
    const runs = await fetch(`${apiUrl}/runs`, { headers: { authorization: `Bearer ${TOPOLOGY_TOKEN}` } });
    assert.equal(runs.status, 200);
    assert.equal(((await runs.json()) as { goal: string }[]).filter((x) => x.goal === GOAL).length, 2, 'both runs in the shared database');
  } finally {
    await t.stop();
  }
});
