import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Serves one PGlite (a single Postgres backend) to many `pg` clients on a loopback port.
 *
 * Why not @electric-sql/pglite-socket's server: it queues each protocol MESSAGE separately, so the
 * Parse/Bind/Execute/Sync of two clients interleave on PGlite's one backend and clobber each other's
 * unnamed prepared statement (seen here with pg-boss: "bind message supplies 3 parameters, but
 * prepared statement "" requires 2"). This server queues whole units instead: everything a client
 * sends up to Sync ('S') or a simple Query ('Q') (PostgreSQL docs, Frontend/Backend Protocol,
 * "Extended Query": Sync ends the unit). Like pglite-socket, while a client holds an open
 * transaction block only that client's units run; a client that disconnects mid-transaction is
 * rolled back so it cannot block the others.
 */
const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

interface Unit {
  readonly client: number;
  readonly msgs: Uint8Array[];
  readonly write: (b: Uint8Array) => void;
  readonly done: (e?: unknown) => void;
}

export class PgliteServer {
  private readonly db: PGlite;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private pending: Unit[] = [];
  private owner: number | null = null; // client with an open transaction block
  private pumping = false;
  private nextId = 1;
  port = 0;

  constructor(db: PGlite) {
    this.db = db;
  }

  async start(host = '127.0.0.1', port = 0): Promise<number> {
    this.server = createServer((s) => this.accept(s));
    await new Promise<void>((res, rej) => {
      this.server?.once('error', rej);
      this.server?.listen(port, host, () => res());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    this.server = undefined;
  }

  private accept(socket: Socket): void {
    const id = this.nextId++;
    socket.setNoDelay(true);
    this.sockets.add(socket);
    let buf: Buffer = Buffer.alloc(0);
    let started = false;
    let batch: Uint8Array[] = [];
    let chain: Promise<void> = Promise.resolve();
    const write = (b: Uint8Array) => {
      if (socket.writable) socket.write(Buffer.from(b));
    };
    const submit = (msgs: Uint8Array[]) => {
      // Units of one client run in order: each waits for the previous one's turn to end.
      chain = chain.then(
        () =>
          new Promise<void>((res) => {
            this.pending.push({ client: id, msgs, write, done: () => res() });
            void this.pump();
          }),
      );
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!started) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          const code = buf.readInt32BE(4);
          if (buf.length < len) return;
          const msg = buf.subarray(0, len);
          buf = buf.subarray(len);
          if (code === SSL_REQUEST) {
            socket.write('N'); // no TLS on loopback
          } else if (code === CANCEL_REQUEST) {
            socket.end();
            return;
          } else if (code === PROTOCOL_3) {
            started = true;
            submit([new Uint8Array(msg)]);
          } else {
            socket.destroy();
            return;
          }
          continue;
        }
        if (buf.length < 5) return;
        const len = 1 + buf.readInt32BE(1);
        if (buf.length < len) return;
        const type = String.fromCharCode(buf[0]);
        const msg = new Uint8Array(buf.subarray(0, len));
        buf = buf.subarray(len);
        if (type === 'X') {
          socket.end(); // Terminate: just close; PGlite's backend stays for the others
          return;
        }
        batch.push(msg);
        if (type === 'S' || type === 'Q' || type === 'H') {
          submit(batch);
          batch = [];
        }
      }
    });
    const gone = () => {
      if (!this.sockets.delete(socket)) return;
      this.pending = this.pending.filter((u) => {
        if (u.client === id) u.done();
        return u.client !== id;
      });
      if (this.owner === id) {
        // A client that died inside a transaction must not block the others (nor commit half).
        this.owner = null;
        void this.db
          .exec('ROLLBACK')
          .catch(() => undefined)
          .then(() => this.pump());
      }
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const i = this.owner === null ? 0 : this.pending.findIndex((u) => u.client === this.owner);
        if (i < 0 || this.pending.length === 0) return;
        const u = this.pending.splice(i, 1)[0];
        let err: unknown;
        try {
          await this.db.runExclusive(async () => {
            for (const m of u.msgs) await this.db.execProtocolRawStream(m, { onRawData: u.write });
          });
        } catch (e) {
          err = e;
        }
        this.owner = this.db.isInTransaction() ? u.client : null;
        u.done(err);
      }
    } finally {
      this.pumping = false;
    }
  }
}
