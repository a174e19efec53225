/**
 * One contract suite for every `Pacs` implementation (hono's common.case.test.ts pattern): a test
 * file starts a real PACS (Orthanc, the embedded PACS), builds a fixture, and calls `pacsContract`.
 * The same suite runs through the dicom_handler over HTTP (test/contracts/pacs-remote.test.ts):
 * fixture methods may then answer a promise (each configuration is a service started on demand).
 * dcmtk's findscu checks what we stored independently of our own C-FIND.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isDfaError } from '../../src/core/errors.ts';
import { splitPart10 } from '../../src/dicom/dimse/dataset.ts';
import type { Pacs } from '../../src/core/ports.ts';

const run = promisify(execFile);

export interface PacsFixture {
  /** The PACS's DICOM node, for dcmtk checks; `aet` is an AE the PACS lets query. */
  readonly node: { readonly host: string; readonly port: number; readonly aet: string; readonly callingAet: string };
  /** Retrieval in DFA_RETRIEVE order with everything allowed. */
  pacs(retrieve: readonly ('c-get' | 'c-move' | 'wado-rs')[]): Pacs | Promise<Pacs>;
  /** A Pacs whose calling AE may query and move but not C-GET. */
  noGetPacs(retrieve: readonly ('c-get' | 'c-move' | 'wado-rs')[]): Pacs | Promise<Pacs>;
  /** A Pacs whose C-MOVE destination AE the PACS does not know. */
  unknownDestinationPacs(): Pacs | Promise<Pacs>;
  /** A Pacs calling with an AE title the PACS does not know at all (`callingAet`). */
  strangerPacs(): { pacs: Pacs; callingAet: string } | Promise<{ pacs: Pacs; callingAet: string }>;
  /** A Pacs calling the PACS by a wrong AE title. */
  wrongCalledAetPacs(): Pacs | Promise<Pacs>;
  close(): Promise<void>;
}

export async function dcmtkCount(node: PacsFixture['node'], level: 'STUDY' | 'SERIES' | 'IMAGE', keys: Record<string, string>): Promise<number> {
  const args = ['-S', '-aet', node.callingAet, '-aec', node.aet, '-k', `QueryRetrieveLevel=${level}`];
  for (const [k, v] of Object.entries(keys)) args.push('-k', `${k}=${v}`);
  args.push(node.host, String(node.port));
  const { stdout, stderr } = await run('findscu', args, { env: { ...process.env, TCP_NODELAY: '1' } });
  return ((stdout + stderr).match(/Find Response: \d+ \(Pending\)/g) ?? []).length;
}

export function pacsContract(name: string, setup: () => Promise<PacsFixture>, data: { files: readonly string[]; patientId: string; studyDate: string; accession: string }): void {
  describe(`Pacs contract: ${name}`, () => {
    let fx: PacsFixture;
    let scratch: string;
    const opened: Pacs[] = [];
    const open = async (p: Pacs | Promise<Pacs>): Promise<Pacs> => {
      const pacs = await p;
      opened.push(pacs);
      return pacs;
    };
    let studyUid = '';
    let seriesUid = '';
    const sopUids = new Set<string>();
    /** Last 4 KiB of each source data set (pixel data, whatever the header's transfer syntax) by SOP UID. */
    const tails = new Map<string, Buffer>();

    before(async () => {
      fx = await setup();
      scratch = await mkdtemp(join(tmpdir(), 'dfa-pacs-contract-'));
      for (const f of data.files) {
        const p = splitPart10(await readFile(f));
        sopUids.add(p.sopInstanceUid);
        tails.set(p.sopInstanceUid, Buffer.from(p.dataset.subarray(-4096)));
      }
    });
    after(async () => {
      for (const p of opened) await p.close();
      await fx?.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    test('C-ECHO succeeds', async () => {
      await (await open(fx.pacs(['c-get']))).echo();
    });

    test('C-STORE stores every file (dcmtk findscu sees them all)', async () => {
      const out = await (await open(fx.pacs(['c-get']))).store(data.files);
      assert.equal(out.length, data.files.length);
      assert.ok(out.every((o) => o.ok && o.status === 0), JSON.stringify(out.find((o) => !o.ok)));
      assert.deepEqual(new Set(out.map((o) => o.sopInstanceUid)), sopUids);
      assert.equal(await dcmtkCount(fx.node, 'IMAGE', { PatientID: data.patientId, SOPInstanceUID: '' }), data.files.length);
    });

    test('C-FIND at study level honours patient id, modality, date range and accession filters', async () => {
      const pacs = await open(fx.pacs(['c-get']));
      const all = await pacs.findStudies({ patientId: data.patientId });
      assert.equal(all.length, 1);
      studyUid = all[0].studyInstanceUid;
      assert.deepEqual(all[0].modalities, ['CT']);
      assert.equal(all[0].studyDate, data.studyDate);
      assert.equal(all[0].numberOfInstances, data.files.length);
      assert.equal((await pacs.findStudies({ patientId: 'NO-SUCH-PATIENT' })).length, 0);
      assert.equal((await pacs.findStudies({ patientId: data.patientId, modality: 'CT' })).length, 1);
      assert.equal((await pacs.findStudies({ patientId: data.patientId, modality: 'MR' })).length, 0);
      assert.equal((await pacs.findStudies({ patientId: data.patientId, studyDateFrom: data.studyDate, studyDateTo: data.studyDate })).length, 1);
      assert.equal((await pacs.findStudies({ patientId: data.patientId, studyDateFrom: '29990101' })).length, 0);
      assert.equal((await pacs.findStudies({ accessionNumber: data.accession })).length, 1);
      assert.equal((await pacs.findStudies({ studyInstanceUid: studyUid })).length, 1);
    });

    test('C-FIND at series and instance level', async () => {
      const pacs = await open(fx.pacs(['c-get']));
      const series = await pacs.findSeries(studyUid);
      assert.equal(series.length, 1);
      assert.equal(series[0].modality, 'CT');
      assert.equal(series[0].numberOfInstances, data.files.length);
      seriesUid = series[0].seriesInstanceUid;
      assert.equal((await pacs.findSeries(studyUid, { modality: 'MR' })).length, 0);
      const inst = await pacs.findInstances(studyUid, seriesUid);
      assert.deepEqual(new Set(inst.map((i) => i.sopInstanceUid)), sopUids);
      assert.ok(inst.every((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.2'));
    });

    const retrievedOk = async (dir: string, r: Awaited<ReturnType<Pacs['retrieve']>>) => {
      assert.equal(r.instances.length, data.files.length);
      assert.deepEqual(new Set(r.instances.map((i) => i.sopInstanceUid)), sopUids);
      assert.ok(r.instances.every((i) => i.studyInstanceUid === studyUid && i.seriesInstanceUid === seriesUid));
      assert.equal((await readdir(dir)).filter((f) => f.endsWith('.dcm')).length, data.files.length);
      await run('dcmdump', ['-q', r.instances[0].path]); // a valid Part 10 file by dcmtk's reading
      for (const i of r.instances) {
        const got = splitPart10(await readFile(i.path)).dataset.subarray(-4096);
        assert.ok(got.equals(tails.get(i.sopInstanceUid)!), `pixel data of ${i.sopInstanceUid} differs from the source`);
      }
    };

    test('retrieve by C-GET (study level)', async () => {
      const dir = join(scratch, 'cget');
      const r = await (await open(fx.pacs(['c-get']))).retrieve({ studyInstanceUid: studyUid }, dir);
      assert.equal(r.method, 'c-get');
      assert.deepEqual(r.attempts.map((a) => a.ok), [true]);
      await retrievedOk(dir, r);
    });

    test('retrieve by C-MOVE into our SCP (series level)', async () => {
      const dir = join(scratch, 'cmove');
      const r = await (await open(fx.pacs(['c-move']))).retrieve({ studyInstanceUid: studyUid, seriesInstanceUid: seriesUid }, dir);
      assert.equal(r.method, 'c-move');
      await retrievedOk(dir, r);
    });

    test('falls back to C-MOVE when C-GET is refused for our AE, and says why', async () => {
      const dir = join(scratch, 'fallback');
      const r = await (await open(fx.noGetPacs(['c-get', 'c-move']))).retrieve({ studyInstanceUid: studyUid }, dir);
      assert.equal(r.method, 'c-move');
      assert.equal(r.attempts.length, 2);
      assert.equal(r.attempts[0].method, 'c-get');
      assert.equal(r.attempts[0].ok, false);
      assert.match(r.attempts[0].reason ?? '', /C-GET/);
      await retrievedOk(dir, r);
    });

    test('an unknown C-MOVE destination fails with words that say what to register', async () => {
      const pacs = await open(fx.unknownDestinationPacs());
      await assert.rejects(pacs.retrieve({ studyInstanceUid: studyUid }, join(scratch, 'nodest')), (e: unknown) => {
        assert.ok(isDfaError(e, 'RETRIEVE_FAILED'));
        assert.match(e.message, /add AE '[A-Z_]+'.*(modality list|DicomModalities)/);
        return true;
      });
    });

    test('an unknown calling AE gets an error naming the AE to register', async () => {
      const { pacs, callingAet } = await fx.strangerPacs();
      await open(pacs);
      await assert.rejects(pacs.findStudies({}), (e: unknown) => {
        assert.ok(isDfaError(e, 'DICOM_AE_NOT_ALLOWED') || isDfaError(e, 'DICOM_ASSOCIATION_REJECTED'), String(e));
        assert.match(e.message, new RegExp(`register AE '${callingAet}'`));
        return true;
      });
    });

    test('a wrong called AE title is rejected with a hint about DFA_PACS_AET', async () => {
      const pacs = await open(fx.wrongCalledAetPacs());
      await assert.rejects(pacs.echo(), (e: unknown) => {
        assert.ok(isDfaError(e, 'DICOM_ASSOCIATION_REJECTED'), String(e));
        assert.match(e.message, /DFA_PACS_AET/);
        return true;
      });
    });
  });
}
