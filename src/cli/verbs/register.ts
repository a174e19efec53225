import { DfaError } from '../../core/errors.ts';
import { pacsFromConfig } from '../../dicom/pacs-from-config.ts';
import { fhirFromConfig } from '../../fhir/fhir-from-config.ts';
import { registerStudies, registerStudy, type RegisterOptions } from '../../fhir/register-study.ts';
import type { Pacs } from '../../core/ports.ts';
import type { FhirClient } from '../../fhir/client.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const FLAGS = defineFlags({
  all: { type: 'boolean', help: 'every study in the PACS' },
  modality: { type: 'string', value: 'm', help: 'with --all: only studies with this modality' },
  order: { type: 'boolean', help: 'also create a ServiceRequest per study' },
  endpoint: { type: 'string', value: 'url', help: 'ImagingStudy.endpoint (DICOMweb base)' },
  json: { type: 'boolean', help: 'JSON output' },
});

/** DICOM → FHIR registration (as DICOMcast): Patient + ImagingStudy (+ ServiceRequest) from the PACS. */
export const verb: Verb = {
  summary: 'register PACS studies in FHIR (Patient + ImagingStudy status registered, optional ServiceRequest)',
  usage: [
    'npx dfa register 1.2.826.0.1.3680043.8.498.12345',
    'npx dfa register --all --modality CT --order          # every CT study, with a ServiceRequest each',
    'npx dfa register --all --endpoint https://pacs.example/dicom-web --json',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals: positional } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const { all, json, modality } = values;
    const opts: { -readonly [K in keyof RegisterOptions]: RegisterOptions[K] } = { mrnSystem: ctx.config.DFA_FHIR_MRN_SYSTEM };
    if (values.order) opts.serviceRequest = true;
    if (values.endpoint !== undefined) opts.endpoint = { address: values.endpoint };
    if (!all && positional.length === 0) throw new DfaError('CONFIG_INVALID', 'usage: dfa register <StudyInstanceUID>... | --all [--modality CT] [--order] [--endpoint URL] [--json]');
    if (!opts.endpoint && ctx.config.DFA_DICOMWEB_URL) opts.endpoint = { address: ctx.config.DFA_DICOMWEB_URL };

    const pacs = await pacsFromConfig(ctx.config, ctx.log);
    const fhir = await fhirFromConfig(ctx.config, ctx.log);
    try {
      const results = all
        ? await registerStudies(fhir.client, pacs, modality ? { modality } : {}, opts)
        : await registerEach(fhir.client, pacs, positional, opts);
      if (json) ctx.out(JSON.stringify({ fhir: fhir.client.baseUrl, results }));
      else
        for (const r of results)
          ctx.out(r.result ? `${r.studyInstanceUid} → ${r.result.imagingStudy} (${r.result.created ? 'created' : 'updated'}), ${r.result.patient}${r.result.serviceRequest ? `, ${r.result.serviceRequest}` : ''}` : `${r.studyInstanceUid}: FAILED ${r.error}`);
      if (results.length === 0) ctx.out('no studies found in the PACS');
      return results.some((r) => r.error) ? 1 : 0;
    } finally {
      await fhir.close();
      await pacs.close();
    }
  },
};

/** One at a time: studies of the same patient must not race on the Patient's conditional create. */
async function registerEach(fhir: FhirClient, pacs: Pacs, uids: readonly string[], opts: RegisterOptions) {
  const out: Awaited<ReturnType<typeof registerStudies>> = [];
  for (const uid of uids) {
    try {
      out.push({ studyInstanceUid: uid, result: await registerStudy(fhir, pacs, uid, opts) });
    } catch (e) {
      out.push({ studyInstanceUid: uid, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
