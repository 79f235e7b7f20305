/** Assertions shared by the conformance suites. */
import { afterEach, expect } from 'vitest';
import { errorCodeName, Flag, FrameType } from '../../src/h2/index.js';
import { type ConnectOptions, RawClient } from './h2-raw-client.js';

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client after the SETTINGS exchange; closed after the test. */
export async function open(port: number, settings: Array<[number, number]> = []): Promise<RawClient> {
  const c = await RawClient.open(port, settings);
  clients.push(c);
  return c;
}

/** A client that has only connected (and, unless told otherwise, sent the preface). */
export async function connect(port: number, opts: ConnectOptions = {}): Promise<RawClient> {
  const c = await RawClient.connect(port, opts);
  clients.push(c);
  return c;
}

/** Polls `cond` until it holds or `timeout` ms pass (the assertion after it says what was expected). */
export async function until(cond: () => boolean, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

/** The server must answer with GOAWAY carrying `code` and close the connection (§5.4.1). */
export async function expectConnectionError(c: RawClient, code: number): Promise<void> {
  const g = await c.goaway();
  expect(errorCodeName(g.errorCode!)).toBe(errorCodeName(code));
  await c.waitClosed();
  expect(c.closed).toBe(true);
}

/** The server must reset `streamId` with `code` (§5.4.2) and keep the connection. */
export async function expectStreamError(c: RawClient, streamId: number, code: number): Promise<void> {
  const got = await c.rst(streamId);
  expect(errorCodeName(got)).toBe(errorCodeName(code));
  expect(await c.ping()).toBe(true);
  expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
}

/** A complete 200 response on `streamId` with the given body. */
export async function expectOk(c: RawClient, streamId: number, body?: string): Promise<void> {
  const r = await c.response(streamId);
  expect(r.rst).toBeNull();
  expect(r.status).toBe('200');
  if (body !== undefined) expect(r.body.toString('latin1')).toBe(body);
}

/** No frame matching `pred` within `ms`, and the connection still answers a PING. */
export async function expectNothing(c: RawClient, pred: (f: { type: number; streamId: number; flags: number }) => boolean, ms = 100): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  expect(await c.ping()).toBe(true);
  expect(c.frames.filter(pred).map((f) => `${f.type}/${f.streamId}`)).toEqual([]);
}

export const isGoaway = (f: { type: number }) => f.type === FrameType.GOAWAY;
export const isRst = (f: { type: number }) => f.type === FrameType.RST_STREAM;
export const isAck = (type: number) => (f: { type: number; flags: number }) => f.type === type && (f.flags & Flag.ACK) !== 0;
