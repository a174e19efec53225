/** The Pacs contract against a real Orthanc (loopback, its own ports and storage). */
import { pacsContract } from '../../test/contracts/pacs.contract.ts';
import { CIP64_FACTS, orthancPacsFixture } from '../../test/support/orthanc-pacs-fixture.ts';

pacsContract('Orthanc over DIMSE', orthancPacsFixture, CIP64_FACTS);
