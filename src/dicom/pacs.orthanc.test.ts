/** The Pacs contract against a real Orthanc (loopback, its own ports and storage). */
import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../core/log.ts';
import { startOrthanc, type OrthancHandle } from '../../test/support/orthanc.ts';
import { freePort } from '../../test/support/ports.ts';
import { CIP64_DICOM_DIR } from '../../test/support/testdata.ts';
import { pacsContract, type PacsFixture } from '../../test/contracts/pacs.contract.ts';
import { createPacs } from './pacs.ts';
import { DicomScp } from './scp/receiver.ts';

const files = readdirSync(CIP64_DICOM_DIR).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(CIP64_DICOM_DIR, f));

async function setup(): Promise<PacsFixture> {
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

pacsContract('Orthanc over DIMSE', setup, { files, patientId: '123456', studyDate: '20060101', accession: '1' });
