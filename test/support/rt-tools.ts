/**
 * Reference tools for the RT writer gates: dciodvfy (IOD validator), plastimatch (RTSTRUCT → masks),
 * a MetaImage (.mha) reader for plastimatch's output, a raw NRRD writer for its --fixed grid, Dice.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VolumeGeometry } from '../../src/core/volume.ts';

const run = promisify(execFile);

export interface ValidatorReport {
  readonly exitCode: number;
  readonly errors: string[];
  readonly warnings: string[];
  readonly output: string;
}

/** Run dciodvfy on a Part 10 object; errors are lines starting with 'Error'. */
export async function dciodvfy(part10: Uint8Array): Promise<ValidatorReport> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-dciodvfy-'));
  try {
    const f = join(dir, 'obj.dcm');
    await writeFile(f, part10);
    let exitCode = 0;
    let output: string;
    try {
      const r = await run('dciodvfy', [f], { maxBuffer: 64 * 1024 * 1024 });
      output = r.stdout + r.stderr;
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      exitCode = typeof err.code === 'number' ? err.code : 1;
      output = (err.stdout ?? '') + (err.stderr ?? '');
    }
    const lines = output.split('\n');
    return {
      exitCode,
      errors: lines.filter((l) => /^Error/.test(l)),
      warnings: lines.filter((l) => /^Warning/.test(l)),
      output,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A raw NRRD of zeros on the volume's grid, for plastimatch --fixed (LPS, like DICOM). */
export function referenceNrrd(g: VolumeGeometry): Uint8Array {
  const v = (a: readonly number[]) => `(${a.join(',')})`;
  const dirs = g.direction.map((d, a) => v(d.map((x) => x * g.spacing[a])));
  const header =
    'NRRD0004\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\n' +
    `sizes: ${g.dims.join(' ')}\nspace directions: ${dirs.join(' ')}\nkinds: domain domain domain\n` +
    `encoding: raw\nspace origin: ${v(g.origin)}\n\n`;
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(h.length + g.dims[0] * g.dims[1] * g.dims[2]);
  out.set(h);
  return out;
}

export interface MetaImage {
  readonly dims: number[];
  readonly origin: number[];
  readonly spacing: number[];
  readonly data: Uint8Array;
}

/** Uncompressed MET_UCHAR MetaImage, as plastimatch writes structure masks. */
export function readMha(buf: Uint8Array): MetaImage {
  const text = new TextDecoder('latin1').decode(buf.subarray(0, Math.min(buf.length, 4096)));
  const end = text.indexOf('ElementDataFile = LOCAL\n');
  if (end < 0) throw new Error('not a MetaImage with LOCAL data');
  const fields = new Map(text.slice(0, end).split('\n').filter(Boolean).map((l) => l.split(' = ') as [string, string]));
  if (fields.get('ElementType') !== 'MET_UCHAR' || fields.get('CompressedData') === 'True') throw new Error('unsupported MetaImage');
  const nums = (k: string) => (fields.get(k) ?? '').split(' ').map(Number);
  const dims = nums('DimSize');
  const start = end + 'ElementDataFile = LOCAL\n'.length;
  return { dims, origin: nums('Offset'), spacing: nums('ElementSpacing'), data: buf.subarray(start, start + dims[0] * dims[1] * dims[2]) };
}

/**
 * `plastimatch convert --input rtss.dcm --fixed <grid> --output-prefix out` → one mask per ROI name.
 * `fixed` is either the volume geometry (written as a reference NRRD) or a path to an image.
 */
export async function plastimatchMasks(
  rtss: Uint8Array,
  fixed: VolumeGeometry | string,
  opts: { xorContours?: boolean } = {},
): Promise<Map<string, MetaImage>> {
  const dir = await mkdtemp(join(tmpdir(), 'dfa-plastimatch-'));
  try {
    const input = join(dir, 'rtss.dcm');
    await writeFile(input, rtss);
    let fixedPath: string;
    if (typeof fixed === 'string') fixedPath = fixed;
    else {
      fixedPath = join(dir, 'fixed.nrrd');
      await writeFile(fixedPath, referenceNrrd(fixed));
    }
    const out = join(dir, 'out');
    const args = ['convert', '--input', input, '--fixed', fixedPath, '--output-prefix', out];
    // Default: plastimatch ORs the contours of a slice (holes filled); --xor-contours makes inner contours holes.
    if (opts.xorContours) args.push('--xor-contours');
    await run('plastimatch', args, { maxBuffer: 64 * 1024 * 1024 });
    const masks = new Map<string, MetaImage>();
    for (const f of await readdir(out)) {
      if (f.endsWith('.mha')) masks.set(f.slice(0, -4), readMha(new Uint8Array(await readFile(join(out, f)))));
    }
    return masks;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** plastimatch's own conversion of a DICOM series to NRRD, for an independent --fixed grid. */
export async function plastimatchSeriesToNrrd(seriesDir: string, outPath: string): Promise<void> {
  await run('plastimatch', ['convert', '--input', seriesDir, '--output-img', outPath], { maxBuffer: 64 * 1024 * 1024 });
}

/** Dice of two binary masks (non-zero = foreground). */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}
