/** The Pacs contract against the embedded dev PACS, plus what only it promises: data survives a restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../core/log.ts';
import { freePort } from '../../../test/support/ports.ts';
import { CIP64_DICOM_DIR } from '../../../test/support/testdata.ts';
import { dcmtkCount, pacsContract, type PacsFixture } from '../../../test/contracts/pacs.contract.ts';
import { splitPart10 } from '../dimse/dataset.ts';
import { createPacs } from '../pacs.ts';
import { DicomScp } from '../scp/receiver.ts';
import { EmbeddedPacs } from './embedded-pacs.ts';

const files = readdirSync(CIP64_DICOM_DIR).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CIP64_DICOM_DIR, f));

async function setup(): Promise<PacsFixture> {
  const log = memoryLogger('warn');
  const root = mkdtempSync(join(tmpdir(), 'dfa-embedded-pacs-'));
  const [dfaPort, noGetPort, nodestPort] = [await freePort(), await freePort(), await freePort()];
  const pacsNode = await EmbeddedPacs.start({
    dir: join(root, 'pacs'),
    allowedAets: ['DFA', 'DFANOGET'],
    knownAes: { DFA: { host: '127.0.0.1', port: dfaPort }, DFANOGET: { host: '127.0.0.1', port: noGetPort, allowGet: false } },
    log,
  });
  const scp = (aet: string, port: number) => new DicomScp({ aet, port, allowedAets: [pacsNode.aet], sink: { dir: join(root, 'inbox') }, log }).start();
  const scps = [await scp('DFA', dfaPort), await scp('DFANOGET', noGetPort), await scp('NODEST', nodestPort)];
  const dimse = (callingAet: string, calledAet = pacsNode.aet) => ({ host: pacsNode.host, port: pacsNode.port, calledAet, callingAet });
  return {
    node: { host: pacsNode.host, port: pacsNode.port, aet: pacsNode.aet, callingAet: 'DFA' },
    pacs: (retrieve) => createPacs({ dimse: dimse('DFA'), retrieve, store: 'c-store', moveScp: scps[0], log }),
    noGetPacs: (retrieve) => createPacs({ dimse: dimse('DFANOGET'), retrieve, store: 'c-store', moveScp: scps[1], log }),
    unknownDestinationPacs: () => createPacs({ dimse: dimse('DFA'), retrieve: ['c-move'], store: 'c-store', moveScp: scps[2], log }),
    strangerPacs: () => ({ pacs: createPacs({ dimse: dimse('STRANGER'), retrieve: ['c-get'], store: 'c-store', log }), callingAet: 'STRANGER' }),
    wrongCalledAetPacs: () => createPacs({ dimse: { ...dimse('DFA'), calledAet: 'NOT_THE_PACS' }, retrieve: ['c-get'], store: 'c-store', log }),
    async close() {
      for (const s of scps) await s.close();
      await pacsNode.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

pacsContract('embedded PACS', setup, { files, patientId: '123456', studyDate: '20060101', accession: '1' });

test('embedded PACS keeps its data across a restart, and rebuilds a lost index from the files', async () => {
  const log = memoryLogger('warn');
  const dir = mkdtempSync(join(tmpdir(), 'dfa-embedded-restart-'));
  try {
    let node = await EmbeddedPacs.start({ dir, log });
    const client = () => createPacs({ dimse: { host: node.host, port: node.port, calledAet: node.aet, callingAet: 'DFA' }, retrieve: ['c-get'], store: 'c-store', log });
    const stored = await client().store(files.slice(0, 10));
    assert.ok(stored.every((s) => s.ok));
    const before = node.listStudies();
    await node.close();

    node = await EmbeddedPacs.start({ dir, log });
    assert.deepEqual(node.listStudies(), before);
    assert.equal(before[0].numberOfInstances, 10);
    assert.equal(await dcmtkCount({ host: node.host, port: node.port, aet: node.aet, callingAet: 'DFA' }, 'IMAGE', { StudyInstanceUID: before[0].studyInstanceUid, SOPInstanceUID: '' }), 10);
    await node.close();

    await rm(join(dir, 'index.jsonl'));
    node = await EmbeddedPacs.start({ dir, log });
    assert.deepEqual(node.listStudies(), before);
    const series = node.listSeries(before[0].studyInstanceUid);
    assert.equal(node.instancePaths(before[0].studyInstanceUid, series[0].seriesInstanceUid).length, 10);
    await node.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('embedded PACS C-GET sends instances byte for byte as stored (implicit VR files stay implicit: no transcoding)', async () => {
  const log = memoryLogger('warn');
  const dir = mkdtempSync(join(tmpdir(), 'dfa-embedded-bytes-'));
  const node = await EmbeddedPacs.start({ dir: join(dir, 'pacs'), log });
  try {
    const pacs = createPacs({ dimse: { host: node.host, port: node.port, calledAet: node.aet, callingAet: 'DFA' }, retrieve: ['c-get'], store: 'c-store', log });
    const some = files.slice(0, 12);
    await pacs.store(some);
    const [study] = await pacs.findStudies({});
    const r = await pacs.retrieve({ studyInstanceUid: study.studyInstanceUid }, join(dir, 'out'));
    const src = new Map(await Promise.all(some.map(async (f) => {
      const p = splitPart10(await readFile(f));
      return [p.sopInstanceUid, p] as const;
    })));
    assert.equal(r.instances.length, some.length);
    for (const i of r.instances) {
      const got = splitPart10(await readFile(i.path));
      const want = src.get(i.sopInstanceUid)!;
      assert.equal(got.transferSyntax, want.transferSyntax);
      assert.ok(got.dataset.equals(want.dataset), i.sopInstanceUid);
    }
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
