import { join } from 'node:path';
import { DfaError } from '../../core/errors.ts';
import { EXAMPLE_GOAL, runDemo, type DemoOptions } from '../../agent/demo/run-demo.ts';
import { runServicesDemo } from '../../serve/services-demo.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const ml = (v: number | undefined) => (v === undefined ? '' : `${Math.round(v)} mL`);

const FLAGS = defineFlags({
  studies: { type: 'string', value: 'n', default: '3', help: 'phantom CT studies (default 3)' },
  size: { type: 'string', value: 'px', default: '256', help: 'rows and columns (default 256)' },
  slices: { type: 'string', value: 'n', default: '100', help: 'slices per CT (default 100)' },
  'data-dir': { type: 'string', value: 'dir', help: 'where the demo keeps its data' },
  goal: { type: 'string', value: 'text', help: 'the goal to run (default: the example goal)' },
  json: { type: 'boolean', help: 'the run result as JSON' },
  services: { type: 'boolean', help: 'run storage, ml ×2, dicom and fhir as their own `dfa service` processes (and the PACS and FHIR stand-ins as processes); print their URLs; stop them afterwards' },
});

export const verb: Verb = {
  summary: 'run the example goal on embedded PACS + FHIR with phantom CTs, one MR and one broken series',
  usage: [
    'npx dfa demo',
    'npx dfa demo --studies 5 --size 512 --slices 300',
    'npx dfa demo --json > demo.json',
    'npx dfa demo --services                                  # every service its own process on loopback (the deployment\'s topology)',
    'DFA_SEGMENTER=onnx npx dfa demo --services --studies 2',
    'DFA_DATA_DIR=/tmp/dfa npx dfa demo --data-dir /tmp/dfa/demo',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values } = parseVerbArgs(FLAGS, args);
    const int = (name: string, v: string, lo: number, hi: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < lo || n > hi) throw new DfaError('CONFIG_INVALID', `--${name} must be an integer ${lo}..${hi}`);
      return n;
    };
    const dataDir = values['data-dir'] ?? join(ctx.config.DFA_DATA_DIR, 'demo');
    const say = values.json ? () => {} : ctx.out;
    say(`dfa demo — goal: "${values.goal ?? EXAMPLE_GOAL}"`);
    const opts: DemoOptions = {
      dataDir,
      goal: values.goal,
      ctStudies: int('studies', values.studies, 1, 50),
      size: int('size', values.size, 64, 512),
      slices: int('slices', values.slices, 20, 600),
      log: ctx.log,
      onSeeded: (s) => say(`  seeded  ${s.label.padEnd(30)} ${s.instances} instances, patient ${s.patientId}, study ${s.studyInstanceUid}`),
      onProgress: (p) => say(`  job     ${p.studyInstanceUid.slice(-12)}  ${p.status.padEnd(9)} ${p.step ?? ''}${p.reason ? ` — ${p.reason}` : ''}`),
    };
    let report;
    if (values.services) {
      say(`every service its own process on loopback; data under ${dataDir} (wiped first)`);
      // The settings a user gave that shape the work pass on to every process.
      const passEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^DFA_(SEGMENTER|FALLBACK_SEGMENTER|MODEL_DIR|ONNX_THREADS|LOG_LEVEL|REVIEW)$/.test(e[0]) && e[1] !== undefined));
      report = await runServicesDemo({ ...opts, passEnv, onProcess: (p) => say(`  started ${p.name.padEnd(36)} ${p.url}  (pid ${p.pid})`) });
      say('  the agent (this process) reaches them over HTTP: DFA_ML_URL, DFA_DICOM_URL, DFA_FHIR_SERVICE_URL, DFA_STORAGE_SERVICE_URL');
    } else {
      say(`embedded PACS + FHIR + database under ${dataDir} (wiped first)`);
      report = await runDemo(ctx.config, opts);
    }
    if (values.json) {
      ctx.out(JSON.stringify({ ...report.result, seeded: report.seeded, mismatches: report.mismatches, timingsMs: report.timingsMs, dataDir: report.dataDir }, null, 2));
      return report.mismatches.length ? 1 : 0;
    }
    say('');
    say('Results:');
    for (const s of report.seeded) {
      const j = report.result.jobs.find((x) => x.studyInstanceUid === s.studyInstanceUid);
      say(`- ${s.label} [${s.patientId}]: ${j?.status ?? 'no job'}${j?.reason ? ` — ${j.reason}` : ''}`);
      if (j?.volumesMl) {
        const vols = Object.entries(j.volumesMl).map(([k, v]) => `${k} ${ml(v)}${s.truthMl?.[k] ? ` (truth ${ml(s.truthMl[k])})` : ''}`);
        say(`    volumes: ${vols.join(', ')}`);
      }
      if (j?.rtstruct) say(`    RTSTRUCT: series ${j.rtstruct.seriesInstanceUid}, SOP ${j.rtstruct.sopInstanceUid}`);
      if (j?.seg) say(`    SEG:      series ${j.seg.seriesInstanceUid}`);
      if (j?.diagnosticReport) say(`    FHIR:     ${j.diagnosticReport}, ${s.imagingStudy} → available${j.task ? `, ${j.task} completed` : ''}`);
      if (j && Object.keys(j.timingsMs).length) say(`    timings:  ${Object.entries(j.timingsMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
    }
    const t = report.timingsMs;
    say('');
    say(`summary: ${report.result.summary.succeeded} succeeded, ${report.result.summary.skipped} skipped, ${report.result.summary.failed} failed  (start-up ${t.startup} ms, seeding ${t.seed} ms, run ${t.run} ms)`);
    if (values.services) say('all service processes stopped');
    say(
      values.services
        ? `where to look: DFA_DATA_DIR=${join(report.dataDir, 'agent')} npx dfa jobs   (audit table; each process's data under ${report.dataDir}: pacs, fhir-server, services/<name>)`
        : `where to look: DFA_DATA_DIR=${report.dataDir} npx dfa jobs   (audit table; PACS files in ${join(report.dataDir, 'pacs')}, FHIR journal in ${join(report.dataDir, 'fhir')})`,
    );
    if (report.mismatches.length) {
      say('NOT as expected:');
      for (const m of report.mismatches) say(`  - ${m}`);
      return 1;
    }
    say('every job ended as expected (CT succeeded, MR skipped, broken series failed with its reason)');
    return 0;
  },
};
