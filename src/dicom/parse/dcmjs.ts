import { createRequire } from 'node:module';

/**
 * The narrow, typed slice of dcmjs this project uses. dcmjs ships no type declarations, so the
 * shapes are declared here once and every other module imports them from this file.
 */
export type DcmjsElement = { vr: string; Value?: unknown[]; InlineBinary?: string };
export type DcmjsDict = Record<string, DcmjsElement>;

/** A naturalized dataset: keyword → value (scalars for VM 1, arrays otherwise, sequences as arrays). */
export type NaturalDataset = Record<string, unknown>;

export interface DcmjsReadOptions {
  ignoreErrors?: boolean;
  untilTag?: string | null;
  includeUntilTagValue?: boolean;
  noCopy?: boolean;
  forceStoreRaw?: boolean;
}

export interface DcmjsDicomDict {
  meta: DcmjsDict;
  dict: DcmjsDict;
  write(opts?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
}

interface LogLike {
  setLevel(level: string): void;
  getLogger(name: string): { setLevel(level: string): void };
}

export interface DcmjsApi {
  data: {
    DicomMessage: { readFile(buf: ArrayBuffer, opts?: DcmjsReadOptions): DcmjsDicomDict };
    DicomMetaDictionary: {
      naturalizeDataset(d: DcmjsDict): NaturalDataset;
      denaturalizeDataset(d: NaturalDataset): DcmjsDict;
    };
    DicomDict: new (meta: DcmjsDict) => DcmjsDicomDict;
  };
  log: LogLike;
}

let api: DcmjsApi | undefined;

/** dcmjs (CJS build), with its console logging silenced: we report problems as DfaErrors instead. */
export function dcmjs(): DcmjsApi {
  if (api) return api;
  const loaded = createRequire(import.meta.url)('dcmjs') as DcmjsApi;
  loaded.log.setLevel('silent');
  for (const name of ['validation.dcmjs', 'AsyncDicomReader']) loaded.log.getLogger(name).setLevel('silent');
  api = loaded;
  return api;
}
