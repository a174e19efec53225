/**
 * A DICOMweb face (QIDO-RS, WADO-RS, STOW-RS; PS3.18 10.4–10.6) for the embedded dev PACS, over
 * its index store, so `DFA_RETRIEVE=wado-rs` / `DFA_STORE=stow-rs` work with nothing installed.
 * Deliberately small: instances are served as stored (no transcoding: a request for a specific
 * other transfer syntax gets 406), QIDO supports the keys of our StudyQuery plus limit/offset, and
 * unsupported query keys are ignored with a Warning header (PS3.18 8.3.4.1 allows that).
 * Binds 127.0.0.1 by default; optional basic or bearer auth.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { open, readFile } from 'node:fs/promises';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { DfaError } from '../../core/errors.ts';
import { isLoopbackHost } from '../../core/loopback.ts';
import type { Logger } from '../../core/log.ts';
import type { InstanceRecord, SeriesRecord, StudyQuery, StudyRecord } from '../../core/ports.ts';
import { splitPart10 } from '../dimse/dataset.ts';
import type { IncomingInstance } from '../dimse/scu.ts';
import { instanceJson, seriesJson, stowResponseJson, studyJson } from './dicom-json-write.ts';
import { MultipartParser, parseContentType } from './multipart.ts';
import { scanPart10Ids } from './part10-ids.ts';

/** What the server needs from a store (the embedded PACS's PacsIndexStore has it). */
export interface DicomWebStore {
  listStudies(q: StudyQuery): StudyRecord[];
  listSeries(studyInstanceUid: string, q?: { modality?: string }): SeriesRecord[];
  listInstances(studyInstanceUid: string, seriesInstanceUid: string): (InstanceRecord & { path: string })[];
  instancePaths(studyInstanceUid: string, seriesInstanceUid?: string, sopInstanceUid?: string): string[];
  put(i: IncomingInstance): Promise<unknown>;
}

export interface DicomWebServerOptions {
  readonly store: DicomWebStore;
  readonly host?: string; // default 127.0.0.1
  readonly port?: number; // default 0: any free port
  /** Path prefix of the service, default '/dicom-web'. */
  readonly basePath?: string;
  readonly auth?:
    | { readonly username: string; readonly password: string }
    | { readonly token: string }
    /** Any bearer check, e.g. tokens issued by an OAuth2 token endpoint. */
    | { readonly bearer: (authorization: string | undefined) => boolean };
  readonly log?: Logger;
}

const QIDO_KEYS = new Set(['StudyInstanceUID', 'PatientID', 'AccessionNumber', 'ModalitiesInStudy', 'StudyDate', 'Modality', 'limit', 'offset', 'includefield', 'fuzzymatching']);
const UID = '([0-9.]+)';
const ROUTES: { re: RegExp; level: 'studies' | 'series' | 'instances' | 'retrieve' }[] = [
  { re: new RegExp('^/studies$'), level: 'studies' },
  { re: new RegExp(`^/studies/${UID}/series$`), level: 'series' },
  { re: new RegExp(`^/studies/${UID}/series/${UID}/instances$`), level: 'instances' },
  { re: new RegExp(`^/studies/${UID}(?:/series/${UID}(?:/instances/${UID})?)?$`), level: 'retrieve' },
];

class HttpFailure extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class DicomWebServer {
  readonly url: string;
  private readonly server: Server;
  private readonly opts: DicomWebServerOptions;
  private readonly base: string;

  private constructor(server: Server, url: string, opts: DicomWebServerOptions, base: string) {
    this.server = server;
    this.url = url;
    this.opts = opts;
    this.base = base;
  }

  static async start(opts: DicomWebServerOptions): Promise<DicomWebServer> {
    const base = (opts.basePath ?? '/dicom-web').replace(/\/+$/, '');
    const host = opts.host ?? '127.0.0.1';
    if (!isLoopbackHost(host) && !opts.auth) throw new DfaError('CONFIG_INVALID', `the DICOMweb server on ${host} (not loopback) needs credentials (auth)`);
    const ready: { self?: DicomWebServer } = {};
    const server = createServer((req, res) => {
      void ready.self?.handle(req, res).catch((e: unknown) => {
        const status = e instanceof HttpFailure ? e.status : 500;
        opts.log?.[status >= 500 ? 'error' : 'debug']('dicomweb request failed', { method: req.method, url: req.url, status, error: e instanceof Error ? e.message : String(e) });
        const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
        // RFC 9110 11.6.1: a 401 names the scheme the client should use.
        if (status === 401) headers['WWW-Authenticate'] = opts.auth && ('token' in opts.auth || 'bearer' in opts.auth) ? 'Bearer realm="dfa"' : 'Basic realm="dfa"';
        if (!res.headersSent) res.writeHead(status, headers).end(e instanceof Error ? e.message : String(e));
        else res.destroy();
      });
    });
    server.listen(opts.port ?? 0, host);
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    ready.self = new DicomWebServer(server, `http://${host}:${port}${base}`, opts, base);
    return ready.self;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.authorize(req);
    const u = new URL(req.url ?? '/', 'http://x');
    if (!u.pathname.startsWith(this.base + '/')) throw new HttpFailure(404, 'not a DICOMweb path');
    const path = u.pathname.slice(this.base.length).replace(/\/+$/, '');
    if (req.method === 'POST') {
      const m = /^\/studies(?:\/([0-9.]+))?$/.exec(path);
      if (!m) throw new HttpFailure(404, 'STOW-RS is POST /studies or /studies/{StudyInstanceUID}');
      return this.stow(req, res, m[1]);
    }
    if (req.method !== 'GET') throw new HttpFailure(405, `${req.method ?? '?'} not supported`);
    for (const r of ROUTES) {
      const m = r.re.exec(path);
      if (!m) continue;
      if (r.level === 'retrieve') return this.wado(req, res, m[1], m[2], m[3]);
      return this.qido(res, r.level, u.searchParams, m[1], m[2]);
    }
    throw new HttpFailure(404, `no DICOMweb resource at ${path}`);
  }

  private authorize(req: IncomingMessage): void {
    const a = this.opts.auth;
    if (!a) return;
    if ('bearer' in a) {
      if (!a.bearer(req.headers.authorization)) throw new HttpFailure(401, 'authentication required');
      return;
    }
    const expected = 'token' in a ? `Bearer ${a.token}` : `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    const got = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(expected);
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new HttpFailure(401, 'authentication required');
  }

  // PS3.18 10.6: QIDO-RS
  private qido(res: ServerResponse, level: 'studies' | 'series' | 'instances', p: URLSearchParams, study?: string, series?: string): void {
    const ignored = [...new Set(p.keys())].filter((k) => !QIDO_KEYS.has(k) && !/^[0-9A-Fa-f]{8}$/.test(k));
    let rows: object[];
    if (level === 'studies') {
      const [from, to] = (p.get('StudyDate') ?? '').split('-');
      const q: StudyQuery = {
        ...opt('studyInstanceUid', p.get('StudyInstanceUID')),
        ...opt('patientId', p.get('PatientID')),
        ...opt('accessionNumber', p.get('AccessionNumber')),
        ...opt('modality', p.get('ModalitiesInStudy')),
        ...opt('studyDateFrom', from),
        ...opt('studyDateTo', p.get('StudyDate')?.includes('-') ? to : from),
      };
      rows = this.opts.store.listStudies(q).map(studyJson);
    } else if (level === 'series') {
      rows = this.opts.store.listSeries(study!, { ...opt('modality', p.get('Modality')) }).map(seriesJson);
    } else {
      rows = this.opts.store.listInstances(study!, series!).map(instanceJson);
    }
    const offset = Math.max(0, Number(p.get('offset') ?? 0) || 0);
    const limit = p.has('limit') ? Math.max(0, Number(p.get('limit')) || 0) : rows.length;
    const page = rows.slice(offset, offset + limit);
    const headers: Record<string, string> = { 'Content-Type': 'application/dicom+json' };
    if (ignored.length) headers.Warning = `299 dfa "The following query keys are not supported and were ignored: ${ignored.join(', ')}"`;
    res.writeHead(200, headers).end(JSON.stringify(page));
  }

  // PS3.18 10.4: WADO-RS, multipart/related; type="application/dicom", instances as stored.
  private async wado(req: IncomingMessage, res: ServerResponse, study: string, series?: string, sop?: string): Promise<void> {
    const accept = req.headers.accept ?? '*/*';
    if (!/multipart\/related|\*\/\*/i.test(accept)) throw new HttpFailure(406, 'WADO-RS here answers multipart/related; type="application/dicom" only');
    const wantTs = parseContentType(accept.split(',')[0]).params['transfer-syntax'];
    const paths = this.opts.store.instancePaths(study, series, sop);
    if (paths.length === 0) throw new HttpFailure(404, `no instances for ${[study, series, sop].filter(Boolean).join('/')}`);
    if (wantTs && wantTs !== '*') {
      // PS3.18 8.7.3.5.2: we cannot transcode, so a specific other transfer syntax is "Not Acceptable".
      for (const p of paths) {
        const ts = await storedTransferSyntax(p);
        if (ts !== wantTs) throw new HttpFailure(406, `instances are stored as ${ts ?? 'unknown'}; ask with transfer-syntax=*`);
      }
    }
    const boundary = `dfa-${randomBytes(12).toString('hex')}`;
    res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` });
    for (const p of paths) {
      const bytes = await readFile(p);
      if (!res.write(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`)) await once(res, 'drain');
      if (!res.write(bytes)) await once(res, 'drain');
      if (!res.write('\r\n')) await once(res, 'drain');
    }
    res.end(`--${boundary}--\r\n`);
  }

  // PS3.18 10.5: STOW-RS
  private async stow(req: IncomingMessage, res: ServerResponse, study?: string): Promise<void> {
    const ct = parseContentType(req.headers['content-type'] ?? '');
    if (ct.type !== 'multipart/related' || !ct.params.boundary) throw new HttpFailure(415, 'STOW-RS needs multipart/related; type="application/dicom"');
    const parser = new MultipartParser(ct.params.boundary);
    const stored: { sopClassUid: string; sopInstanceUid: string }[] = [];
    const failed: { sopClassUid?: string; sopInstanceUid?: string; reason: number }[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) {
      for (const part of parser.push(chunk)) {
        const file = Buffer.concat(part.chunks as Buffer[]);
        const ids = scanPart10Ids(file);
        let p10: ReturnType<typeof splitPart10> | undefined;
        try {
          p10 = splitPart10(file, 'part');
          // An instance without study/series UIDs (or unreadable up to them) cannot be filed.
          if (!ids?.studyInstanceUid || !ids.seriesInstanceUid) throw new Error('no Study/Series Instance UID');
          // PS3.18 10.5.1: with a study in the URL, instances of other studies are refused.
          if (study && ids?.studyInstanceUid !== study) {
            failed.push({ sopClassUid: p10.sopClassUid, sopInstanceUid: p10.sopInstanceUid, reason: 0x0110 });
            continue;
          }
          await this.opts.store.put({ callingAet: 'DICOMWEB', sopClassUid: p10.sopClassUid, sopInstanceUid: p10.sopInstanceUid, transferSyntax: p10.transferSyntax, dataset: p10.dataset });
          stored.push({ sopClassUid: p10.sopClassUid, sopInstanceUid: p10.sopInstanceUid });
        } catch {
          // PS3.4 Table B.2-1: 0xC000 "Error: Cannot understand".
          failed.push({ ...(p10 ? { sopClassUid: p10.sopClassUid, sopInstanceUid: p10.sopInstanceUid } : {}), reason: 0xc000 });
        }
      }
    }
    try {
      parser.end();
    } catch (e) {
      throw new HttpFailure(400, e instanceof Error ? e.message : String(e));
    }
    // PS3.18 10.5.3: 200 all stored, 202 some failed, 409 none stored.
    const status = failed.length === 0 ? 200 : stored.length > 0 ? 202 : 409;
    this.opts.log?.debug('stow-rs', { stored: stored.length, failed: failed.length });
    res.writeHead(status, { 'Content-Type': 'application/dicom+json' }).end(JSON.stringify(stowResponseJson(stored, failed)));
  }
}

async function storedTransferSyntax(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return scanPart10Ids(head.subarray(0, bytesRead))?.transferSyntaxUid;
  } finally {
    await fh.close();
  }
}

function opt<K extends string>(key: K, v: string | null | undefined): { [P in K]?: string } {
  return (v === null || v === undefined || v === '' ? {} : { [key]: v }) as { [P in K]?: string };
}

