import { pacsFromConfig } from '../../dicom/pacs-from-config.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const FLAGS = defineFlags({
  'patient-id': { type: 'string', value: 'id', help: 'studies of this PatientID' },
  accession: { type: 'string', value: 'acc', help: 'studies with this accession number' },
  modality: { type: 'string', value: 'm', help: 'e.g. CT' },
  from: { type: 'string', value: 'date', help: 'study date from (YYYYMMDD)' },
  to: { type: 'string', value: 'date', help: 'study date to' },
  study: { type: 'string', value: 'uid', help: 'the series of this study' },
  series: { type: 'string', value: 'uid', help: 'the instances of this series (with --study)' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'C-FIND (or QIDO-RS) studies, the series of a study, or the instances of a series',
  usage: [
    'npx dfa find                                         # all studies',
    'npx dfa find --patient-id 123456 --modality CT --from 20060101 --to 20061231',
    'npx dfa find --accession 1 --json',
    'npx dfa find --study 1.2.826.0.1.3680043.2.1125.1.355…   # its series',
    'npx dfa find --study <study uid> --series <series uid>  # its instances',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values: v } = parseVerbArgs(FLAGS, args);
    const pacs = await pacsFromConfig(ctx.config, ctx.log);
    try {
      let rows: object[];
      let lines: string[];
      if (v.study && v.series) {
        const r = await pacs.findInstances(v.study, v.series);
        rows = r;
        lines = r.map((i) => `${String(i.instanceNumber ?? '').padStart(5)}  ${i.sopInstanceUid}  ${i.sopClassUid}`);
      } else if (v.study) {
        const r = await pacs.findSeries(v.study, v.modality ? { modality: v.modality } : {});
        rows = r;
        lines = r.map((s) => `${s.modality.padEnd(8)} ${String(s.numberOfInstances ?? '?').padStart(5)} inst  #${s.seriesNumber ?? ''}  ${s.seriesInstanceUid}  ${s.seriesDescription ?? ''}`);
      } else {
        const r = await pacs.findStudies({
          ...(v['patient-id'] ? { patientId: v['patient-id'] } : {}), ...(v.accession ? { accessionNumber: v.accession } : {}),
          ...(v.modality ? { modality: v.modality } : {}), ...(v.from ? { studyDateFrom: v.from } : {}), ...(v.to ? { studyDateTo: v.to } : {}),
        });
        rows = r;
        lines = r.map((s) => `${s.studyDate ?? '        '}  ${(s.patientId ?? '').padEnd(12)} ${s.modalities.join('/').padEnd(8)} ${String(s.numberOfInstances ?? '?').padStart(5)} inst  acc ${s.accessionNumber ?? '-'}  ${s.studyInstanceUid}  ${s.studyDescription ?? ''}`);
      }
      if (v.json) ctx.out(JSON.stringify(rows, null, 2));
      else if (lines.length === 0) ctx.out('no matches');
      else for (const l of lines) ctx.out(l);
      return 0;
    } finally {
      await pacs.close();
    }
  },
};
