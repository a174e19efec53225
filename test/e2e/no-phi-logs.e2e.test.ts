/**
 * Issue 10 §6 end to end: a study of a patient with a known name, MRN and birth date, in a real
 * Orthanc that wants a DICOMweb password, registered in the embedded FHIR server; the real CLI runs
 * a goal naming that patient (retrieve by WADO-RS, store by STOW-RS, both with the password written
 * into DFA_DICOMWEB_URL) at log level info, in text and in JSON. Nothing it prints — stdout or
 * stderr — carries the name, the MRN, the birth date or the password (plain or base64).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { writePhantomSeries } from '../../src/dicom/phantom/index.ts';
import { pacsFromConfig } from '../../src/dicom/pacs-from-config.ts';
import { FhirClient } from '../../src/fhir/client.ts';
import { startFhirServer } from '../../src/fhir/dev-server/server.ts';
import { registerStudy } from '../../src/fhir/register-study.ts';
import { startOrthanc } from '../support/orthanc.ts';
import { spawnDfa } from './world.ts';

const FAMILY = 'Zyxwarth';
const GIVEN = 'Philippa';
const MRN = 'MRN-7731905';
const BIRTH = '19600101'; // the phantom's PatientBirthDate
const PASSWORD = 'Pacs-Pa55word!x';

test('no patient name, MRN, birth date or PACS password in anything a run prints', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-e2e-phi-'));
  const orthanc = await startOrthanc({ users: { dfa: PASSWORD } });
  const fhirServer = await startFhirServer({ dataDir: join(root, 'fhir'), host: '127.0.0.1', port: 0 });
  try {
    const web = new URL(orthanc.dicomWebUrl);
    web.username = 'dfa';
    web.password = encodeURIComponent(PASSWORD);
    const env = {
      DFA_DATA_DIR: join(root, 'agent'),
      DFA_DICOMWEB_URL: web.toString(),
      DFA_RETRIEVE: 'wado-rs',
      DFA_STORE: 'stow-rs',
      DFA_FHIR_URL: fhirServer.url,
      DFA_LOG_LEVEL: 'info',
    };
    const log = createLogger({ level: 'error' });
    const pacs = await pacsFromConfig(loadConfig({ ...env, DFA_DATA_DIR: join(root, 'seed') }), log);
    let studyUid: string;
    try {
      const written = await writePhantomSeries({ size: 96, slices: 48, seed: 7, patientId: MRN, patientName: `${FAMILY}^${GIVEN}`, accessionNumber: 'ACC7' }, join(root, 'ct'), false);
      studyUid = written.phantom.volume.meta.studyInstanceUid;
      assert.ok((await pacs.store([...written.files])).every((r) => r.ok));
      await registerStudy(new FhirClient({ baseUrl: fhirServer.url }), pacs, studyUid, { serviceRequest: true });
    } finally {
      await pacs.close();
    }

    const goal = `Analyze pending CT scans for patient ${MRN} for lung segmentation and store RTSTRUCT in PACS`;
    const text = await spawnDfa(['run', goal], env).output;
    assert.equal(text.code, 0, text.stderr.slice(-3000));
    const json = await spawnDfa(['run', '--json', goal], { ...env, DFA_LOG_FORMAT: 'json' }).output;
    assert.ok(json.code === 0, json.stderr.slice(-3000));
    const printed = [text.stdout, text.stderr, json.stderr].join('\n');
    assert.match(printed, new RegExp(studyUid.replace(/\./g, '\\.')), 'the study UID identifies the work');
    assert.ok(text.stderr.split('\n').some((l) => l.startsWith('INFO')), 'info lines were logged');
    for (const [what, value] of [
      ['family name', FAMILY],
      ['given name', GIVEN],
      ['MRN', MRN],
      ['MRN digits', MRN.replace(/\D/g, '')],
      ['birth date', BIRTH],
      ['password', PASSWORD],
      ['password (URL-encoded)', encodeURIComponent(PASSWORD)],
      ['basic credentials', Buffer.from(`dfa:${PASSWORD}`).toString('base64')],
    ]) {
      assert.ok(!printed.toLowerCase().includes(value.toLowerCase()), `${what} appears in the output:\n${printed.split('\n').filter((l) => l.toLowerCase().includes(value.toLowerCase())).join('\n')}`);
    }
    assert.ok(!json.stderr.includes(PASSWORD) && !json.stdout.includes(PASSWORD), 'JSON run: no password either');
  } finally {
    await fhirServer.stop();
    await orthanc.stop();
    await rm(root, { recursive: true, force: true });
  }
});
