/**
 * The Pacs contract's fixture on a real Orthanc (loopback, its own ports and storage): our SCPs as
 * C-MOVE destinations, an AE that may not C-GET, an unknown destination, a stranger, a wrong called
 * AE. Used in process (src/dicom/pacs.orthanc.test.ts) and through the dicom_handler
 * (test/contracts/pacs-remote.test.ts).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/core/log.ts';
import { createPacs, type DicomPacs } from '../../src/dicom/pacs.ts';
import { DicomScp } from '../../src/dicom/scp/receiver.ts';
import type { PacsFixture } from '../contracts/pacs.contract.ts';
import { startOrthanc, type OrthancHandle } from './orthanc.ts';
import { freePort } from './ports.ts';
import { CIP64_DICOM_DIR } from './testdata.ts';

export const CIP64_FILES = readdirSync(CIP64_DICOM_DIR).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CIP64_DICOM_DIR, f));
export const CIP64_FACTS = { files: CIP64_FILES, patientId: '123456', studyDate: '20060101', accession: '1' };

/** Every Pacs method answers a DicomPacs here (in process). */
export type OrthancPacsFixture = Pick<PacsFixture, 'node' | 'close'> & {
  readonly orthanc: OrthancHandle;
  pacs(retrieve: readonly ('c-get' | 'c-move' | 'wado-rs')[]): DicomPacs;
  noGetPacs(retrieve: readonly ('c-get' | 'c-move' | 'wado-rs')[]): DicomPacs;
  unknownDestinationPacs(): DicomPacs;
  strangerPacs(): { pacs: DicomPacs; callingAet: string };
  wrongCalledAetPacs(): DicomPacs;
};

export async function orthancPacsFixture(): Promise<OrthancPacsFixture> {
  const log = memoryLogger('warn');
  const inbox = mkdtempSync(join(tmpdir(), 'dfa-orthanc-inbox-'));
  const [dfaPort, noGetPort, nodestPort] = [await freePort(), await freePort(), await freePort()];
  const allow = { AllowEcho: true, AllowFind: true, AllowMove: true, AllowStore: true };
  const orthanc: OrthancHandle = await startOrthanc({
    extraConfig: {
      DicomModalities: {
        dfa: { AET: 'DFA', Host: '127.0.0.1', Port: dfaPort, ...allow, AllowGet: true },
        noget: { AET: 'DFANOGET', Host: '127.0.0.1', Port: noGetPort, ...allow, AllowGet: false },
      },
    },
  });
  const scp = (aet: string, port: number) => new DicomScp({ aet, port, host: '127.0.0.1', allowedAets: ['ORTHANC'], sink: { dir: inbox }, log }).start();
  const scps = [await scp('DFA', dfaPort), await scp('DFANOGET', noGetPort), await scp('NODEST', nodestPort)];
  const dimse = (callingAet: string, calledAet = orthanc.aet) => ({ host: '127.0.0.1', port: orthanc.dicomPort, calledAet, callingAet });
  return {
    orthanc,
    node: { host: '127.0.0.1', port: orthanc.dicomPort, aet: orthanc.aet, callingAet: 'DFA' },
    pacs: (retrieve) => createPacs({ dimse: dimse('DFA'), dicomweb: { baseUrl: orthanc.dicomWebUrl }, retrieve, store: 'c-store', moveScp: scps[0], log }),
    noGetPacs: (retrieve) => createPacs({ dimse: dimse('DFANOGET'), retrieve, store: 'c-store', moveScp: scps[1], log }),
    unknownDestinationPacs: () => createPacs({ dimse: dimse('DFA'), retrieve: ['c-move'], store: 'c-store', moveScp: scps[2], log }),
    strangerPacs: () => ({ pacs: createPacs({ dimse: dimse('STRANGER'), retrieve: ['c-get'], store: 'c-store', log }), callingAet: 'STRANGER' }),
    wrongCalledAetPacs: () => createPacs({ dimse: { ...dimse('DFA'), calledAet: 'NOT_ORTHANC' }, retrieve: ['c-get'], store: 'c-store', log }),
    async close() {
      for (const s of scps) await s.close();
      await orthanc.stop();
      rmSync(inbox, { recursive: true, force: true });
    },
  };
}
