/** Faults become typed, actionable errors: refused connections, silent peers, stalled responses, dropped associations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { isDfaError } from '../../core/errors.ts';
import { memoryLogger } from '../../core/log.ts';
import { freePort } from '../../../test/support/ports.ts';
import { DicomServer } from '../scp/server.ts';
import { studyIdentifier } from './queries.ts';
import { DimseClient } from './scu.ts';

const quick = { connectMs: 500, associationMs: 300, dimseMs: 300, idleMs: 2000 };

async function rawServer(onConn: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, sockets };
}
async function closeRaw(r: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const s of r.sockets) s.destroy();
  await new Promise<void>((res) => r.server.close(() => res()));
}

test('connection refused names the PACS, host and port', async () => {
  const port = await freePort();
  const c = new DimseClient({ host: '127.0.0.1', port, calledAet: 'PACS', callingAet: 'DFA', timeouts: quick });
  await assert.rejects(c.echo(), (e: unknown) => isDfaError(e, 'DICOM_CONNECTION_FAILED') && e.message.includes(`PACS at 127.0.0.1:${port}`) && /refused/.test(e.message));
});

test('a peer that accepts TCP but never answers the association request times out (association timeout)', async () => {
  const raw = await rawServer(() => {});
  try {
    const c = new DimseClient({ host: '127.0.0.1', port: raw.port, calledAet: 'PACS', callingAet: 'DFA', timeouts: quick });
    await assert.rejects(c.echo(), (e: unknown) => isDfaError(e, 'DICOM_TIMEOUT') && /no association response .* within 300 ms/.test(e.message));
  } finally {
    await closeRaw(raw);
  }
});

test('a peer that drops the connection on our association request gets an AE-title hint', async () => {
  const raw = await rawServer((s) => s.once('data', () => s.destroy()));
  try {
    const c = new DimseClient({ host: '127.0.0.1', port: raw.port, calledAet: 'PACS', callingAet: 'DFA', timeouts: quick });
    await assert.rejects(c.echo(), (e: unknown) => isDfaError(e, 'DICOM_ASSOCIATION_REJECTED') && /register AE 'DFA'/.test(e.message) && /DFA_PACS_AET/.test(e.message));
  } finally {
    await closeRaw(raw);
  }
});

test('a C-FIND whose response never comes times out (DIMSE timeout) instead of hanging', async () => {
  const server = await new DicomServer({
    aet: 'SLOW', port: 0, log: memoryLogger('error'),
    handlers: { onFind: () => new Promise(() => {}) },
  }).start();
  try {
    const c = new DimseClient({ host: '127.0.0.1', port: server.port, calledAet: 'SLOW', callingAet: 'DFA', timeouts: quick });
    assert.equal((await c.echo()).kind, 'success');
    await assert.rejects(c.findOne(studyIdentifier({})), (e: unknown) => isDfaError(e, 'DICOM_TIMEOUT') && /C-FIND STUDY: no response from SLOW .* within 300 ms/.test(e.message));
  } finally {
    await server.close();
  }
});

test('several C-FIND requests run on one association, each with its own matches and status', async () => {
  const server = await new DicomServer({
    aet: 'Q', port: 0, log: memoryLogger('error'),
    handlers: { onFind: async (q) => [{ ...q, PatientID: 'P1' }, { ...q, PatientID: 'P2' }] },
  }).start();
  try {
    const c = new DimseClient({ host: '127.0.0.1', port: server.port, calledAet: 'Q', callingAet: 'DFA', timeouts: quick });
    const r = await c.find([studyIdentifier({}), studyIdentifier({ modality: 'CT' }), studyIdentifier({ patientId: 'X' })]);
    assert.deepEqual(r.map((x) => [x.matches.length, x.status.kind]), [[2, 'success'], [2, 'success'], [2, 'success']]);
    assert.equal(server.accepted, 1);
  } finally {
    await server.close();
  }
});
