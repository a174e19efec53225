import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Logger } from '../core/log.ts';
import type { JobEvent } from '../storage/audit.ts';

/**
 * Server-sent events (WHATWG HTML §9.2): tails the job_events table from a cursor and writes
 * `id:` / `event: job` / `data:` frames, so a client that reconnects with Last-Event-ID misses
 * nothing. A comment line every 15 s keeps proxies from closing an idle stream.
 */
export function streamEvents(
  req: IncomingMessage,
  reply: FastifyReply,
  o: { after: number; runId?: string; pollMs: number; eventsAfter: (afterId: number, runId?: string) => Promise<JobEvent[]>; log: Logger },
): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': stream open\n\n');
  let cursor = o.after;
  let closed = false;
  let lastWrite = Date.now();
  const tick = async () => {
    if (closed) return;
    try {
      for (const e of await o.eventsAfter(cursor, o.runId)) {
        cursor = Math.max(cursor, Number(e.id));
        const data = { id: e.id, jobKey: e.jobKey, at: new Date(e.at).toISOString(), step: e.step, kind: e.kind, message: e.message, data: e.data };
        res.write(`id: ${e.id}\nevent: job\ndata: ${JSON.stringify(data)}\n\n`);
        lastWrite = Date.now();
      }
      if (Date.now() - lastWrite > 15000) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
    } catch (err) {
      o.log.warn('event stream query failed', { error: (err as Error).message });
    }
    if (!closed) timer = setTimeout(() => void tick(), o.pollMs);
  };
  let timer = setTimeout(() => void tick(), 0);
  req.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
}
