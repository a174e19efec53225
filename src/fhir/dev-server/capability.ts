import { getResourceTypes } from '@medplum/core';
import type { CapabilityStatement } from '@medplum/fhirtypes';

/** The CapabilityStatement at /metadata (FHIR R4 §3.1.0.9 capabilities interaction). */
export function capabilityStatement(baseUrl: string, tokenUrl: string | undefined): CapabilityStatement {
  const interactions = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'] as const;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'dfa embedded dev FHIR server (Medplum FhirRouter + MemoryRepository)' },
    implementation: { description: 'Development FHIR server for dicom-fhir-agent', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: tokenUrl
          ? {
              service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
              extension: [
                {
                  url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                  extension: [{ url: 'token', valueUri: tokenUrl }],
                },
              ],
            }
          : undefined,
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: getResourceTypes().map((type) => ({
          type,
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: false,
          conditionalCreate: true,
          conditionalUpdate: true,
          conditionalDelete: 'single',
          interaction: interactions.map((code) => ({ code })),
        })),
      },
    ],
  };
}
