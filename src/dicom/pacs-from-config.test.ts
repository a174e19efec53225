import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { isDfaError } from '../core/errors.ts';
import { memoryLogger } from '../core/log.ts';
import { CIP64_DICOM_DIR } from '../../test/support/testdata.ts';
import { pacsFromConfig } from './pacs-from-config.ts';

test('with no PACS configured, every Pacs in a process shares one embedded PACS under DFA_DATA_DIR/pacs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-pacs-config-'));
  try {
    const config = loadConfig({ DFA_DATA_DIR: root });
    const log = memoryLogger('warn');
    const a = await pacsFromConfig(config, log);
    const b = await pacsFromConfig(config, log);
    assert.ok(a.embedded && a.embedded === b.embedded);
    assert.equal(a.embedded.store.root, join(root, 'pacs'));
    await a.store([join(CIP64_DICOM_DIR, 'IMG0001.dcm')]);
    assert.equal((await b.findStudies({}))[0].numberOfInstances, 1);
    await a.close();
    await b.echo(); // still running while b holds it
    await b.close();
    await assert.rejects(b.echo(), (e: unknown) => isDfaError(e, 'DICOM_CONNECTION_FAILED'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a configured PACS is used as configured (DIMSE peer and our AE title)', async () => {
  const config = loadConfig({ DFA_PACS_HOST: '127.0.0.1', DFA_PACS_PORT: '4242', DFA_PACS_AET: 'ORTHANC', DFA_AET: 'DFA1', DFA_RETRIEVE: 'c-move,c-get' });
  const p = await pacsFromConfig(config, memoryLogger('warn'));
  assert.equal(p.embedded, undefined);
  assert.deepEqual([p.dimse?.peer.calledAet, p.dimse?.peer.callingAet, p.dimse?.peer.port], ['ORTHANC', 'DFA1', 4242]);
  await p.close();
});
