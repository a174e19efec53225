/**
 * The embedded PACS's storage: Part 10 files under `<root>/files/<study>/<series>/<sop>.dcm` and an
 * index of their header attributes in `<root>/index.jsonl` (one JSON object per stored instance,
 * appended; the last line for a SOP Instance UID wins). Loaded on open; rebuilt from the files when the
 * index is missing, so the data survives a restart. This is the query API a DICOMweb face can use.
 */
import { appendFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { InstanceRecord, SeriesRecord, StudyQuery, StudyRecord } from '../../core/ports.ts';
import { scanAttributes, splitPart10 } from '../dimse/dataset.ts';
import { dateRange } from '../dimse/queries.ts';
import type { IncomingInstance } from '../dimse/scu.ts';
import { fileNameFor, writeInstanceFile } from '../scp/instance-file.ts';
import { matchesIdentifier } from './matching.ts';

/** One stored instance as indexed (keyword → value, DICOM keywords). */
export interface IndexedInstance {
  readonly PatientID?: string;
  readonly PatientName?: string;
  readonly StudyInstanceUID: string;
  readonly StudyDate?: string;
  readonly StudyTime?: string;
  readonly AccessionNumber?: string;
  readonly StudyDescription?: string;
  readonly StudyID?: string;
  readonly SeriesInstanceUID: string;
  readonly Modality?: string;
  readonly SeriesNumber?: string;
  readonly SeriesDescription?: string;
  readonly SOPInstanceUID: string;
  readonly SOPClassUID: string;
  readonly InstanceNumber?: string;
  readonly TransferSyntaxUID: string;
  /** File path relative to the store root. */
  readonly file: string;
}

const TAGS: Record<string, keyof IndexedInstance> = {
  '00100020': 'PatientID', '00100010': 'PatientName', '0020000D': 'StudyInstanceUID', '00080020': 'StudyDate',
  '00080030': 'StudyTime', '00080050': 'AccessionNumber', '00081030': 'StudyDescription', '00200010': 'StudyID',
  '0020000E': 'SeriesInstanceUID', '00080060': 'Modality', '00200011': 'SeriesNumber', '0008103E': 'SeriesDescription',
  '00080018': 'SOPInstanceUID', '00080016': 'SOPClassUID', '00200013': 'InstanceNumber',
};
const WANTED = new Set(Object.keys(TAGS));

export function indexAttributes(dataset: Buffer, transferSyntax: string): Partial<Record<keyof IndexedInstance, string>> {
  const raw = scanAttributes(dataset, transferSyntax, WANTED, 0x00210000);
  const out: Partial<Record<keyof IndexedInstance, string>> = {};
  for (const [tag, key] of Object.entries(TAGS)) if (raw[tag]) out[key] = raw[tag];
  if (out.PatientName) out.PatientName = out.PatientName.split('=')[0].replace(/\^+$/, '');
  return out;
}

const num = (s: string | undefined) => (s === undefined || s === '' ? undefined : Number.parseInt(s, 10));
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined || Number.isNaN(o[k])) delete o[k];
  return o;
}

export class PacsIndexStore {
  readonly root: string;
  private readonly bySop = new Map<string, IndexedInstance>();
  private appending: Promise<void> = Promise.resolve();

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<PacsIndexStore> {
    const s = new PacsIndexStore(root);
    await mkdir(join(root, 'files'), { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(join(root, 'index.jsonl'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as IndexedInstance;
          s.bySop.set(e.SOPInstanceUID, e);
        } catch {
          // a torn last line after a crash: the file itself is still on disk and is re-indexed below
        }
      }
    }
    if (text === undefined) await s.rebuild();
    return s;
  }

  /** Re-index every Part 10 file under files/ (index lost or first start on old data). */
  async rebuild(): Promise<void> {
    this.bySop.clear();
    const walk = async (d: string): Promise<string[]> => {
      const out: string[] = [];
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
        const p = join(d, e.name);
        if (e.isDirectory()) out.push(...(await walk(p)));
        else if (e.name.endsWith('.dcm')) out.push(p);
      }
      return out;
    };
    for (const f of await walk(join(this.root, 'files'))) {
      try {
        const p10 = splitPart10(await readFile(f), f);
        const a = indexAttributes(p10.dataset, p10.transferSyntax);
        this.bySop.set(p10.sopInstanceUid, { ...a, StudyInstanceUID: a.StudyInstanceUID ?? '', SeriesInstanceUID: a.SeriesInstanceUID ?? '', SOPInstanceUID: p10.sopInstanceUid, SOPClassUID: p10.sopClassUid, TransferSyntaxUID: p10.transferSyntax, file: relative(this.root, f) });
      } catch {
        // not a DICOM file we wrote; ignore
      }
    }
    await writeFile(join(this.root, 'index.jsonl'), [...this.bySop.values()].map((e) => JSON.stringify(e) + '\n').join(''));
  }

  /** Store (or replace) one instance: file first, then its index line. */
  async put(i: IncomingInstance): Promise<IndexedInstance> {
    const a = indexAttributes(i.dataset, i.transferSyntax);
    const study = a.StudyInstanceUID ?? 'unknown-study';
    const series = a.SeriesInstanceUID ?? 'unknown-series';
    const path = join(this.root, 'files', fileNameFor(study).slice(0, -4), fileNameFor(series).slice(0, -4), fileNameFor(i.sopInstanceUid));
    await writeInstanceFile(path, i, { studyInstanceUid: study, seriesInstanceUid: series });
    const e: IndexedInstance = { ...a, StudyInstanceUID: study, SeriesInstanceUID: series, SOPInstanceUID: i.sopInstanceUid, SOPClassUID: i.sopClassUid, TransferSyntaxUID: i.transferSyntax, file: relative(this.root, path) };
    this.bySop.set(e.SOPInstanceUID, e);
    const line = JSON.stringify(e) + '\n';
    this.appending = this.appending.then(() => appendFile(join(this.root, 'index.jsonl'), line));
    await this.appending;
    return e;
  }

  get size(): number {
    return this.bySop.size;
  }

  pathOf(e: IndexedInstance): string {
    return join(this.root, e.file);
  }

  /** Instances of a study, optionally one series / one instance, in series then instance order. */
  instances(studyInstanceUid?: string, seriesInstanceUid?: string, sopInstanceUid?: string): IndexedInstance[] {
    const out: IndexedInstance[] = [];
    for (const e of this.bySop.values()) {
      if (studyInstanceUid && e.StudyInstanceUID !== studyInstanceUid) continue;
      if (seriesInstanceUid && e.SeriesInstanceUID !== seriesInstanceUid) continue;
      if (sopInstanceUid && e.SOPInstanceUID !== sopInstanceUid) continue;
      out.push(e);
    }
    return out.sort((a, b) => (num(a.SeriesNumber) ?? 0) - (num(b.SeriesNumber) ?? 0) || (num(a.InstanceNumber) ?? 0) - (num(b.InstanceNumber) ?? 0));
  }

  instancePaths(studyInstanceUid: string, seriesInstanceUid?: string, sopInstanceUid?: string): string[] {
    return this.instances(studyInstanceUid, seriesInstanceUid, sopInstanceUid).map((e) => this.pathOf(e));
  }

  /** Study-level attributes with counts and modalities (PS3.4 C.6.2.1.2 study keys). */
  studyRows(): Record<string, string | string[] | undefined>[] {
    const by = new Map<string, IndexedInstance[]>();
    for (const e of this.bySop.values()) by.set(e.StudyInstanceUID, [...(by.get(e.StudyInstanceUID) ?? []), e]);
    return [...by.values()].map((list) => {
      const f = list[0];
      return {
        StudyInstanceUID: f.StudyInstanceUID, PatientID: f.PatientID, PatientName: f.PatientName, StudyDate: f.StudyDate, StudyTime: f.StudyTime,
        AccessionNumber: f.AccessionNumber, StudyDescription: f.StudyDescription, StudyID: f.StudyID,
        ModalitiesInStudy: [...new Set(list.map((e) => e.Modality).filter((m): m is string => !!m))].sort(),
        NumberOfStudyRelatedInstances: String(list.length),
        NumberOfStudyRelatedSeries: String(new Set(list.map((e) => e.SeriesInstanceUID)).size),
      };
    });
  }

  seriesRows(studyInstanceUid?: string): Record<string, string | undefined>[] {
    const by = new Map<string, IndexedInstance[]>();
    for (const e of this.instances(studyInstanceUid)) by.set(e.SeriesInstanceUID, [...(by.get(e.SeriesInstanceUID) ?? []), e]);
    return [...by.values()].map((list) => {
      const f = list[0];
      return {
        StudyInstanceUID: f.StudyInstanceUID, SeriesInstanceUID: f.SeriesInstanceUID, Modality: f.Modality, SeriesNumber: f.SeriesNumber,
        SeriesDescription: f.SeriesDescription, PatientID: f.PatientID, NumberOfSeriesRelatedInstances: String(list.length),
      };
    });
  }

  // ── the typed query API (for a DICOMweb face and for tests) ──

  listStudies(q: StudyQuery = {}): StudyRecord[] {
    const keys: Record<string, string> = {
      StudyInstanceUID: q.studyInstanceUid ?? '', PatientID: q.patientId ?? '', AccessionNumber: q.accessionNumber ?? '',
      ModalitiesInStudy: q.modality ?? '', StudyDate: dateRange(q.studyDateFrom, q.studyDateTo),
    };
    return this.studyRows().filter((r) => matchesIdentifier(r, keys)).map((r) => clean({
      studyInstanceUid: r.StudyInstanceUID as string, patientId: r.PatientID as string | undefined, patientName: r.PatientName as string | undefined,
      studyDate: r.StudyDate as string | undefined, accessionNumber: r.AccessionNumber as string | undefined,
      studyDescription: r.StudyDescription as string | undefined, modalities: r.ModalitiesInStudy as string[],
      numberOfInstances: num(r.NumberOfStudyRelatedInstances as string),
    }));
  }

  listSeries(studyInstanceUid: string, q: { modality?: string } = {}): SeriesRecord[] {
    return this.seriesRows(studyInstanceUid).filter((r) => matchesIdentifier(r, { Modality: q.modality ?? '' })).map((r) => clean({
      studyInstanceUid: r.StudyInstanceUID ?? '', seriesInstanceUid: r.SeriesInstanceUID ?? '', modality: r.Modality ?? '',
      seriesNumber: num(r.SeriesNumber), seriesDescription: r.SeriesDescription, numberOfInstances: num(r.NumberOfSeriesRelatedInstances),
    }));
  }

  listInstances(studyInstanceUid: string, seriesInstanceUid: string): (InstanceRecord & { path: string })[] {
    return this.instances(studyInstanceUid, seriesInstanceUid).map((e) => clean({
      studyInstanceUid: e.StudyInstanceUID, seriesInstanceUid: e.SeriesInstanceUID, sopInstanceUid: e.SOPInstanceUID,
      sopClassUid: e.SOPClassUID, instanceNumber: num(e.InstanceNumber), path: this.pathOf(e),
    }));
  }
}
