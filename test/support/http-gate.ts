/**
 * Transparent HTTP proxies on loopback in front of one upstream (e.g. the FHIR server), one per
 * client process, that can stop one client dead at a chosen request: the first request (from any
 * of the proxies) that `holdWhen` accepts is never answered, nor is anything that client sends
 * after it. `holdWhen` may look elsewhere first (e.g. the client's progress in a database). The test learns which client it caught and when, so it can kill that process at a
 * known point of its work (a request is its own proof of where the client is — no timing).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpGate {
  /** The base URL (upstream's path kept) for client `i`. */
  url(i: number): string;
  /** Resolves with the client index whose request was held. */
  readonly caught: Promise<{ client: number; method: string; path: string }>;
  close(): Promise<void>;
}

export async function startHttpGate(upstream: string, clients: number, holdWhen: (client: number, method: string, path: string) => boolean | Promise<boolean>): Promise<HttpGate> {
  const target = new URL(upstream);
  let caughtClient: number | undefined;
  let onCaught!: (c: { client: number; method: string; path: string }) => void;
  const caught = new Promise<{ client: number; method: string; path: string }>((r) => (onCaught = r));
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const ports: number[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  for (let i = 0; i < clients; i++) {
    const server = createServer((req, res) => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      void (async () => {
        if (caughtClient === i) return; // held: never answered
        const hold = caughtClient === undefined && (await Promise.resolve()
          .then(() => holdWhen(i, method, path))
          .catch(() => false));
        if (hold && caughtClient === undefined) {
          caughtClient = i;
          onCaught({ client: i, method, path });
          return;
        }
        if (caughtClient === i) return;
        forward(req, res);
      })();
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    ports.push((server.address() as { port: number }).port);
  }
  const basePath = target.pathname.replace(/\/$/, '');
  return {
    url: (i) => `http://127.0.0.1:${ports[i]}${basePath}`,
    caught,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
