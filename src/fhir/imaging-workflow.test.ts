/** The ImagingFhir contract on FhirImagingWorkflow in process, against the embedded FHIR server over HTTP. */
import { imagingFhirContract } from '../../test/contracts/imaging-fhir.contract.ts';
import { FhirClient } from './client.ts';
import { startFhirServer } from './dev-server/server.ts';
import { FhirImagingWorkflow } from './imaging-workflow.ts';

imagingFhirContract('FhirImagingWorkflow in process', async () => {
  const server = await startFhirServer();
  const fhir = new FhirClient({ baseUrl: server.url, retryBaseMs: 5 });
  return {
    fhir,
    workflow: new FhirImagingWorkflow(fhir),
    strict: () => new FhirImagingWorkflow(fhir, { mrnSystem: 'urn:hospital:mrn' }),
    close: () => server.stop(),
  };
});
