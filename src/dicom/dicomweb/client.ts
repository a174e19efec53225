/**
 * DICOMweb client: QIDO-RS (PS3.18 10.6), WADO-RS (PS3.18 10.4) and STOW-RS (PS3.18 10.5).
 *
 * Why a thin fetch-based client and not the `dicomweb-client` npm package: that package is written
 * for browsers (XMLHttpRequest, which Node lacks without a polyfill), silently ignores its own
 * username/password options (DESIGN.md gotchas), and buffers each multipart response whole before
 * splitting it. Node's built-in fetch streams the body; our own multipart parser (multipart.ts)
 * writes each instance to disk as it arrives (part-files.ts), so a 150 MB study never sits in memory
 * twice, and auth, timeouts and errors follow this project's rules (DfaError codes, no secrets in
 * logs). The whole client is a few hundred lines over a standard API.
 */
import { mkdir } from 'node:fs/promises';
import { DfaError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { InstanceRecord, RetrievedInstance, SeriesRecord, StoreOutcome, StudyQuery, StudyRecord } from '../../core/ports.ts';
import { isValidUid } from '../../core/uid.ts';
import type { HttpAuth } from '../../net/http-auth.ts';
import { resolveEndpoint, type ResolvedEndpoint } from './auth.ts';
import { TAG, allStrings, firstNumber, firstString, type DicomJsonDataset } from './dicom-json.ts';
import { exchange, readJson, type HttpContext } from './http.ts';
import { MultipartParser, parseContentType } from './multipart.ts';
import { PartFiles } from './part-files.ts';
import { batches, describeFile, stowBody, stowOutcomes } from './stow.ts';
import { fetchTransport, nodeHttpTransport } from '../../net/transport.ts';

export interface DicomWebClientOptions {
  readonly baseUrl: string; // e.g. http://pacs:8042/dicom-web
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  /** Client credentials / SMART backend (dicomWebAuthFromConfig) or any HttpAuth; wins over the three above. */
  readonly auth?: HttpAuth;
  /** Idle timeout per request: no data for this long aborts it. Default 60 000 ms. */
  readonly timeoutMs?: number;
  /** Use this fetch instead of node:http (see transport.ts for why node:http is the default). */
  readonly fetch?: typeof fetch;
  /** QIDO-RS page size (limit/offset paging). Default 1000. */
  readonly qidoPageSize?: number;
  /** STOW-RS request size: at most this many files / bytes per request. Defaults 500 / 256 MiB. */
  readonly stowMaxFiles?: number;
  readonly stowMaxBytes?: number;
  readonly log?: Logger;
}

const DICOM_JSON = 'application/dicom+json';
// PS3.18 8.7.3.5.2: transfer-syntax=* asks for the instances as stored (no transcoding).
const MULTIPART_DICOM_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const MULTIPART_DICOM = 'multipart/related; type="application/dicom"';
export class DicomWebClient {
  readonly baseUrl: string;
  private readonly http: HttpContext;
  private readonly endpoint: ResolvedEndpoint;
  private readonly pageSize: number;
  private readonly stowMaxFiles: number;
  private readonly stowMaxBytes: number;
  private readonly log: Logger | undefined;
  /** Set once the server has refused transfer-syntax=* (older servers), so we ask plainly after. */
  private plainAccept = false;

  constructor(opts: DicomWebClientOptions) {
    this.endpoint = resolveEndpoint(opts.baseUrl, opts);
    this.baseUrl = this.endpoint.baseUrl;
    this.http = { endpoint: this.endpoint, timeoutMs: opts.timeoutMs ?? 60_000, transport: opts.fetch ? fetchTransport(opts.fetch) : nodeHttpTransport };
    this.pageSize = opts.qidoPageSize ?? 1000;
    this.stowMaxFiles = opts.stowMaxFiles ?? 500;
    this.stowMaxBytes = opts.stowMaxBytes ?? 256 * 1024 * 1024;
    this.log = opts.log?.child({ dicomweb: this.baseUrl, auth: this.endpoint.scheme });
  }

  // ───────────────────────── QIDO-RS ─────────────────────────

  async qidoStudies(q: StudyQuery): Promise<StudyRecord[]> {
    const params = new URLSearchParams();
    if (q.studyInstanceUid) params.set('StudyInstanceUID', q.studyInstanceUid);
    if (q.patientId) params.set('PatientID', q.patientId);
    if (q.accessionNumber) params.set('AccessionNumber', q.accessionNumber);
    if (q.modality) params.set('ModalitiesInStudy', q.modality);
    // PS3.18 8.3.4.1 / PS3.4 C.2.2.2.5: range matching "from-to", either end open.
    if (q.studyDateFrom || q.studyDateTo) params.set('StudyDate', `${q.studyDateFrom ?? ''}-${q.studyDateTo ?? ''}`);
    for (const t of [TAG.StudyDescription, TAG.ModalitiesInStudy, TAG.NumberOfStudyRelatedInstances, TAG.AccessionNumber]) params.append('includefield', t);
    const rows = await this.qido('/studies', params, 'QIDO-RS studies');
    return rows.map((ds) => ({
      studyInstanceUid: this.required(ds, TAG.StudyInstanceUID, 'QIDO-RS studies'),
      ...opt('patientId', firstString(ds, TAG.PatientID)),
      ...opt('patientName', firstString(ds, TAG.PatientName)),
      ...opt('studyDate', firstString(ds, TAG.StudyDate)),
      ...opt('accessionNumber', firstString(ds, TAG.AccessionNumber)),
      ...opt('studyDescription', firstString(ds, TAG.StudyDescription)),
      modalities: allStrings(ds, TAG.ModalitiesInStudy),
      ...opt('numberOfInstances', firstNumber(ds, TAG.NumberOfStudyRelatedInstances)),
    }));
  }

  async qidoSeries(studyUid: string, q: { modality?: string } = {}): Promise<SeriesRecord[]> {
    const params = new URLSearchParams();
    if (q.modality) params.set('Modality', q.modality);
    for (const t of [TAG.SeriesDescription, TAG.SeriesNumber, TAG.NumberOfSeriesRelatedInstances]) params.append('includefield', t);
    const what = `QIDO-RS series of study ${studyUid}`;
    const rows = await this.qido(`/studies/${uidPath(studyUid)}/series`, params, what);
    return rows.map((ds) => ({
      studyInstanceUid: firstString(ds, TAG.StudyInstanceUID) ?? studyUid,
      seriesInstanceUid: this.required(ds, TAG.SeriesInstanceUID, what),
      modality: firstString(ds, TAG.Modality) ?? '',
      ...opt('seriesNumber', firstNumber(ds, TAG.SeriesNumber)),
      ...opt('seriesDescription', firstString(ds, TAG.SeriesDescription)),
      ...opt('numberOfInstances', firstNumber(ds, TAG.NumberOfSeriesRelatedInstances)),
    }));
  }

  async qidoInstances(studyUid: string, seriesUid: string): Promise<InstanceRecord[]> {
    const params = new URLSearchParams();
    params.append('includefield', TAG.InstanceNumber);
    const what = `QIDO-RS instances of series ${seriesUid}`;
    const rows = await this.qido(`/studies/${uidPath(studyUid)}/series/${uidPath(seriesUid)}/instances`, params, what);
    return rows.map((ds) => ({
      studyInstanceUid: firstString(ds, TAG.StudyInstanceUID) ?? studyUid,
      seriesInstanceUid: firstString(ds, TAG.SeriesInstanceUID) ?? seriesUid,
      sopInstanceUid: this.required(ds, TAG.SOPInstanceUID, what),
      sopClassUid: firstString(ds, TAG.SOPClassUID) ?? '',
      ...opt('instanceNumber', firstNumber(ds, TAG.InstanceNumber)),
    }));
  }

  /** All pages of a QIDO-RS search (PS3.18 8.3.4.4: limit/offset). */
  private async qido(path: string, params: URLSearchParams, what: string): Promise<DicomJsonDataset[]> {
    const all: DicomJsonDataset[] = [];
    let firstOfLastPage: string | undefined;
    for (let offset = 0; ; offset += this.pageSize) {
      const p = new URLSearchParams(params);
      p.set('limit', String(this.pageSize));
      p.set('offset', String(offset));
      const x = await exchange(this.http, { method: 'GET', path: `${path}?${p.toString()}`, accept: DICOM_JSON, what });
      const body = await readJson(x, what); // 204 No Content → undefined → no matches
      if (body !== undefined && !Array.isArray(body)) throw new DfaError('DICOMWEB_HTTP_ERROR', `${what}: expected a JSON array`);
      const page = (body ?? []) as DicomJsonDataset[];
      // A server that ignores offset would page forever: stop when a page repeats.
      const first = JSON.stringify(page[0] ?? null);
      if (page.length > 0 && first === firstOfLastPage) break;
      firstOfLastPage = first;
      all.push(...page);
      if (page.length !== this.pageSize) break; // fewer: last page; more: server ignored limit
    }
    this.log?.debug('qido', { what, results: all.length });
    return all;
  }

  private required(ds: DicomJsonDataset, tag: string, what: string): string {
    const v = firstString(ds, tag);
    if (!v) throw new DfaError('DICOMWEB_HTTP_ERROR', `${what}: a result lacks required attribute (${tag.slice(0, 4)},${tag.slice(4)})`);
    return v;
  }

  // ───────────────────────── WADO-RS ─────────────────────────

  async retrieveStudy(studyUid: string, destDir: string): Promise<RetrievedInstance[]> {
    return this.wado(`/studies/${uidPath(studyUid)}`, destDir, `WADO-RS study ${studyUid}`);
  }

  async retrieveSeries(studyUid: string, seriesUid: string, destDir: string): Promise<RetrievedInstance[]> {
    return this.wado(`/studies/${uidPath(studyUid)}/series/${uidPath(seriesUid)}`, destDir, `WADO-RS series ${seriesUid}`);
  }

  async retrieveInstance(studyUid: string, seriesUid: string, sopUid: string, destDir: string): Promise<RetrievedInstance> {
    const what = `WADO-RS instance ${sopUid}`;
    const got = await this.wado(`/studies/${uidPath(studyUid)}/series/${uidPath(seriesUid)}/instances/${uidPath(sopUid)}`, destDir, what);
    if (got.length !== 1) throw new DfaError('DICOMWEB_HTTP_ERROR', `${what}: expected 1 instance, got ${got.length}`);
    return got[0];
  }

  /** GET a multipart/related of Part 10 instances and write each to destDir/<SOPInstanceUID>.dcm as it arrives. */
  private async wado(path: string, destDir: string, what: string): Promise<RetrievedInstance[]> {
    await mkdir(destDir, { recursive: true });
    const started = performance.now();
    let x = await exchange(this.http, { method: 'GET', path, accept: this.plainAccept ? MULTIPART_DICOM : MULTIPART_DICOM_AS_STORED, what, acceptStatuses: [406], transientChunks: true });
    if (x.response.status === 406) {
      // PS3.18 8.7.3.5.2: a server that cannot honour transfer-syntax=* answers 406; ask plainly.
      x.done();
      await x.response.cancel();
      this.plainAccept = true;
      x = await exchange(this.http, { method: 'GET', path, accept: MULTIPART_DICOM, what, transientChunks: true });
    }
    const ct = parseContentType(x.response.header('content-type') ?? '');
    if (ct.type !== 'multipart/related' || !ct.params.boundary) {
      x.done();
      await x.response.cancel();
      throw new DfaError('DICOMWEB_HTTP_ERROR', `${what}: expected multipart/related with a boundary, got '${ct.type || 'no content type'}'`);
    }
    // Each part streams into its own file as it arrives (part-files.ts); nothing is kept of a chunk.
    const files = new PartFiles(destDir);
    const parser = new MultipartParser(ct.params.boundary, files);
    let writeError: unknown;
    try {
      await x.response.consume((chunk) => {
        x.touch();
        try {
          parser.push(chunk);
        } catch (e) {
          if (!(e instanceof DfaError)) writeError = e; // the file system's, not the server's
          throw e;
        }
        return undefined;
      });
      parser.end();
    } catch (e) {
      files.abort();
      throw writeError ? new DfaError('RETRIEVE_FAILED', `${what}: cannot write to ${destDir}: ${String(writeError)}`, { cause: writeError }) : x.bodyError(e);
    } finally {
      x.done();
    }
    this.log?.debug('wado-rs', { what, instances: files.instances.length, bytes: files.bytes, ms: Math.round(performance.now() - started) });
    return files.instances;
  }

  // ───────────────────────── STOW-RS ─────────────────────────

  /** Stores Part 10 files; one outcome per file, in order. Rejected instances are values, not errors. */
  async store(files: readonly string[]): Promise<StoreOutcome[]> {
    // Read the files' UIDs a few at a time: thousands of files at once would run out of file handles.
    const described = [];
    for (let i = 0; i < files.length; i += 32) described.push(...(await Promise.all(files.slice(i, i + 32).map((f) => describeFile(f)))));
    const out: StoreOutcome[] = [];
    for (const batch of batches(described, this.stowMaxFiles, this.stowMaxBytes)) {
      const { body, contentType } = await stowBody(batch);
      const what = `STOW-RS of ${batch.length} instance(s)`;
      // PS3.18 10.5.3: 200 all stored, 202 some failed or warnings, 409 none stored — each with a
      // response data set listing instances; 400 may carry one too.
      const x = await exchange(this.http, { method: 'POST', path: '/studies', accept: DICOM_JSON, body, contentType, what, acceptStatuses: [400, 409] });
      const httpOk = x.response.status >= 200 && x.response.status < 300;
      const json = await readJson(x, what).catch((e: unknown) => {
        if (httpOk) throw e;
        return undefined;
      });
      const ds = json && typeof json === 'object' && !Array.isArray(json) ? (json as DicomJsonDataset) : Array.isArray(json) ? (json[0] as DicomJsonDataset) : undefined;
      if (!httpOk && !ds) {
        throw new DfaError('DICOMWEB_HTTP_ERROR', `${what}: HTTP ${x.response.status} with no response data set`, { details: { status: x.response.status } });
      }
      const outcomes = stowOutcomes(batch, x.response.status, ds);
      out.push(...outcomes);
      const failed = outcomes.filter((o) => !o.ok).length;
      this.log?.[failed ? 'warn' : 'debug']('stow-rs', { instances: batch.length, failed, status: x.response.status });
    }
    return out;
  }
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function uidPath(uid: string): string {
  if (!isValidUid(uid)) throw new DfaError('DICOMWEB_HTTP_ERROR', `not a valid DICOM UID: '${uid}'`);
  return uid;
}
