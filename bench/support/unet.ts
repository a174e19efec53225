/**
 * The lung U-Net part of `npm run bench:ml`: the shipped model on the three real CTs (each marked
 * in / not in its training set, from the manifest's training record), on the synthetic traps and pathology (seeds it never saw), and the
 * held-out (leave-one-out) real-CT Dice before / after retraining recorded in ml/train/heldout.json.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Segmenter } from '../../src/core/ports.ts';
import { dice } from '../../src/ml/metrics.ts';
import { loadRealCases } from '../../ml/train/real-cases.ts';
import { synthChest } from '../../ml/train/synth-chest.ts';
import { SYNTH_TRAPS } from '../../ml/train/synth-traps.ts';

export interface UnetRow {
  step: string;
  data: string;
  ms?: number;
  diceL?: number;
  diceR?: number;
  note?: string;
}

function lungValues(s: Segmenter): { l: number; r: number } {
  const l = s.manifest.labels.find((x) => x.roiName === 'Lung_L')?.value ?? -1;
  const r = s.manifest.labels.find((x) => x.roiName === 'Lung_R')?.value ?? -1;
  return { l, r };
}

/** The segmenter on the real CTs and the synthetic traps; one row each. */
export async function unetRows(step: string, seg: Segmenter): Promise<UnetRow[]> {
  const { l, r } = lungValues(seg);
  const rows: UnetRow[] = [];
  // the manifest's training record names its real sources (v1.0.0: the CIP CT, pseudo-labelled)
  const trained = JSON.stringify((seg.manifest as unknown as { training?: unknown }).training ?? {});
  for (const c of await loadRealCases()) {
    const t0 = performance.now();
    const out = await seg.segment(c.volume);
    rows.push({ step, data: `real ${c.name}`, ms: performance.now() - t0, diceL: dice(out.data, c.labels, l, 1), diceR: dice(out.data, c.labels, r, 2), note: trained.includes(c.name.replace('imlab-', '')) ? 'in the training set' : 'not in the training set' });
  }
  for (const t of SYNTH_TRAPS) {
    const s = synthChest(t.seed, { scenario: t.scenario, force: t.force });
    const t0 = performance.now();
    const out = await seg.segment(s.volume);
    const ms = performance.now() - t0;
    const mm3 = s.volume.spacing[0] * s.volume.spacing[1] * s.volume.spacing[2];
    let gasFp = 0;
    let lung = 0;
    for (let v = 0; v < out.data.length; v++) {
      const p = out.data[v] === l || out.data[v] === r;
      if (p) lung++;
      if (p && s.gas[v]) gasFp++;
    }
    const noLung = t.scenario === 'abdomen-no-lung';
    rows.push({
      step,
      data: `synth ${t.name}`,
      ms,
      ...(noLung ? {} : { diceL: dice(out.data, s.labels, l, 1), diceR: dice(out.data, s.labels, r, 2) }),
      note: `lung in gas pockets ${((gasFp * mm3) / 1000).toFixed(1)} mL${noLung ? `, lung labelled ${((lung * mm3) / 1000).toFixed(1)} mL` : ''}`,
    });
  }
  return rows;
}

interface HeldOut {
  readonly note: string;
  readonly before: Record<string, { diceL: number; diceR: number }>;
  readonly after: Record<string, { diceL: number; diceR: number }>;
}

/** Markdown lines: held-out real-CT Dice of the U-Net before / after retraining (ml/train/heldout.json). */
export async function heldOutTable(): Promise<string[]> {
  const path = fileURLToPath(new URL('../../ml/train/heldout.json', import.meta.url));
  let h: HeldOut;
  try {
    h = JSON.parse(await readFile(path, 'utf8')) as HeldOut;
  } catch (e) {
    return [`held-out U-Net table n/a: ${(e as Error).message}`];
  }
  const f = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));
  return [
    `U-Net held-out real-CT Dice (leave-one-out; ${h.note})`,
    '',
    '| case | before L | before R | after L | after R |',
    '|---|---:|---:|---:|---:|',
    ...Object.keys(h.after).map((k) => `| ${k} | ${f(h.before[k]?.diceL)} | ${f(h.before[k]?.diceR)} | ${f(h.after[k].diceL)} | ${f(h.after[k].diceR)} |`),
  ];
}
