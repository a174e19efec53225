/**
 * A local TCP server for HTTP client tests that decides every byte: each connection's request head
 * (up to the blank line) is recorded and handed to `script`, which writes whatever response the
 * test needs on the raw socket (n counts requests from 0). Loopback, a free port.
 */
import { createServer, type Socket } from 'node:net';

export type Script = (socket: Socket, request: string, n: number) => unknown;

export interface ScriptServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Request heads seen, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startScriptServer(script: Script): Promise<ScriptServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let got = '';
    let answered = false;
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (answered || !got.includes('\r\n\r\n')) return;
      answered = true;
      requests.push(got);
      void script(s, got, requests.length - 1);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
