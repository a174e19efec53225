/**
 * One HTTP exchange with a DICOMweb server, mapping every fault to a DfaError in one place:
 * unreachable → SERVICE_UNREACHABLE, no progress for `timeoutMs` → DICOM_TIMEOUT, non-2xx →
 * DICOMWEB_HTTP_ERROR with the status and the server's own text (401/403 say which DFA_DICOMWEB_*
 * setting to fix). The timeout is an idle timeout: a 150 MB retrieval that keeps receiving data
 * is not cut off, a stalled one is. Credentials never appear in messages or details.
 */
import { DfaError } from '../../core/errors.ts';
import { authHint, type ResolvedEndpoint } from './auth.ts';
import type { Transport, TransportResponse } from '../../net/transport.ts';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string; // appended to the base URL, starting with '/'
  readonly accept: string;
  readonly body?: Blob;
  readonly contentType?: string;
  /** What we were doing, for the error message: 'QIDO-RS studies', 'WADO-RS series …'. */
  readonly what: string;
  /** Statuses returned as a value instead of thrown (e.g. 409 for STOW-RS, whose body says why). */
  readonly acceptStatuses?: readonly number[];
  /** See TransportRequest.transientChunks. */
  readonly transientChunks?: boolean;
}

export interface HttpExchange {
  readonly response: TransportResponse;
  /** Call whenever data arrives, to push the idle deadline back. */
  readonly touch: () => void;
  /** Stops the idle timer; call when done with the body (also on error). */
  readonly done: () => void;
  /** Wraps an error thrown while reading the body (abort by the idle timer → DICOM_TIMEOUT). */
  readonly bodyError: (e: unknown) => DfaError;
}

export interface HttpContext {
  readonly endpoint: ResolvedEndpoint;
  readonly timeoutMs: number;
  readonly transport: Transport;
}

const MAX_ERROR_TEXT = 2000;

export async function exchange(ctx: HttpContext, req: HttpRequest): Promise<HttpExchange> {
  const url = ctx.endpoint.baseUrl + req.path;
  const ac = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const touch = () => {
    // After done() (e.g. a 401 answered while the upload still runs) nothing may re-arm the timer.
    if (finished) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, ctx.timeoutMs);
  };
  const done = () => {
    finished = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const details = { url, method: req.method };
  const fault = (e: unknown): DfaError => {
    if (e instanceof DfaError) return e;
    if (timedOut) {
      return new DfaError('DICOM_TIMEOUT', `${req.what}: no response from the DICOMweb server for ${ctx.timeoutMs} ms (${url})`, { cause: e, details });
    }
    const code = (e as { cause?: { code?: string } }).cause?.code ?? (e instanceof Error ? e.message : String(e));
    return new DfaError('SERVICE_UNREACHABLE', `${req.what}: cannot reach the DICOMweb server at ${ctx.endpoint.baseUrl} (${code}); check DFA_DICOMWEB_URL`, { cause: e, details });
  };
  const send = async (): Promise<TransportResponse> => {
    const headers: Record<string, string> = { Accept: req.accept };
    const { authorization } = await ctx.endpoint.auth.headers();
    if (authorization) headers.Authorization = authorization;
    if (req.contentType) headers['Content-Type'] = req.contentType;
    touch();
    return ctx.transport(url, { method: req.method, headers, body: req.body, signal: ac.signal, onUpload: touch, transientChunks: req.transientChunks });
  };
  let response: TransportResponse;
  try {
    response = await send();
    // A cached token may have been revoked or expired early: fetch a fresh one and try once more
    // (a Blob body can be sent again).
    if (response.status === 401 && (ctx.endpoint.scheme === 'client-credentials' || ctx.endpoint.scheme === 'smart-backend')) {
      await response.cancel().catch(() => undefined);
      ctx.endpoint.auth.invalidate();
      response = await send();
    }
  } catch (e) {
    done();
    throw fault(e);
  }
  const ok = response.status >= 200 && response.status < 300;
  if (!ok && !(req.acceptStatuses ?? []).includes(response.status)) {
    let text = '';
    try {
      text = (await response.text()).slice(0, MAX_ERROR_TEXT).trim();
    } catch {
      /* the status says enough */
    }
    done();
    // The server refused: stop sending the rest of an upload (nothing more will be read).
    if (req.body) ac.abort();
    const hint = response.status === 401 || response.status === 403 ? `; ${authHint(response.status, ctx.endpoint.scheme)}` : '';
    throw new DfaError('DICOMWEB_HTTP_ERROR', `${req.what}: HTTP ${response.status} ${response.statusText}${text ? ` — ${text}` : ''}${hint}`, {
      details: { ...details, status: response.status, body: text },
    });
  }
  return { response, touch, done, bodyError: fault };
}

/** Reads a JSON body (DICOM JSON for QIDO/STOW); an empty body (204) is undefined. */
export async function readJson(x: HttpExchange, what: string): Promise<unknown> {
  try {
    const text = await x.response.text();
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new DfaError('DICOMWEB_HTTP_ERROR', `${what}: the server's answer is not JSON: ${text.slice(0, 200)}`, { cause: e, details: { status: x.response.status } });
    }
  } catch (e) {
    throw x.bodyError(e);
  } finally {
    x.done();
  }
}
