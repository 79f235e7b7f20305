/**
 * Property: on a real connection between our client and our server, random
 * interleavings of requests (random sizes, uploads of every body kind),
 * responses (random sizes, chunking, delays, trailers, answers before the
 * upload ends) and cancellations (AbortSignal, leaving the body loop,
 * cancel(), server resets) keep every completed stream's octets intact, end
 * every other one with the error its cancellation explains, and leave no
 * stream behind on either side.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BodyInit, connect, createServer, ErrorCode, errorCodeName, Http2Error, type ServerStream } from '../../src/h2/index.js';

/** Deterministic octets: byte i of body `seed`. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** FNV-1a over octets, continued from `h`. */
function fnv(chunk: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < chunk.length; i++) h = Math.imul(h ^ chunk[i]!, 16777619) >>> 0;
  return h;
}

interface Plan {
  /** Response body octets and its seed. */
  size: number;
  seed: number;
  /** Largest chunk the server's producer hands out. */
  chunk: number;
  /** Pause (ms) after every `pauseEvery` chunks (0: never). */
  pauseEvery: number;
  pauseMs: number;
  trailers: boolean;
  /** Send content-length. */
  contentLength: boolean;
  /** Answer before the upload has ended (its verification then goes in the trailers). */
  early: boolean;
  /** Reset by the server after this many body octets (-1: before the response head), or null. */
  reset: { after: number; code: number } | null;
}

interface Op {
  startMs: number;
  plan: Plan;
  upload: { size: number; seed: number; kind: 'bytes' | 'iterable' | 'readable'; chunk: number } | null;
  /** How the client gives up, if it does. */
  cancel: { how: 'signal'; afterMs: number } | { how: 'break' | 'cancel'; afterOctets: number } | null;
  read: { how: 'bytes' } | { how: 'iterate'; pauseMs: number };
}

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 2001, max: 200_000 })),
    seed: fc.integer({ min: 0, max: 1e6 }),
    chunk: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 101, max: 40_000 })),
    pauseEvery: fc.integer({ min: 0, max: 8 }),
    pauseMs: fc.integer({ min: 0, max: 8 }),
    trailers: fc.boolean(),
    contentLength: fc.boolean(),
    early: fc.boolean(),
    resetAt: fc.option(fc.double({ min: -0.2, max: 0.99, noNaN: true }), { freq: 4 }),
    resetCode: fc.constantFrom(ErrorCode.CANCEL, ErrorCode.INTERNAL_ERROR),
  })
  .map(({ resetAt, resetCode, ...p }) => ({
    ...p,
    // At most 2,000 chunks a body (tiny chunks only for small bodies), so that each run stays short.
    chunk: Math.max(p.chunk, Math.ceil(p.size / 2000)),
    reset: resetAt === null ? null : { after: resetAt < 0 || p.size === 0 ? -1 : Math.floor(resetAt * p.size), code: resetCode },
  }));

const opArb: fc.Arbitrary<Op> = fc.record({
  startMs: fc.integer({ min: 0, max: 25 }),
  plan: planArb,
  upload: fc.option(
    fc
      .record({
        size: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 101, max: 150_000 })),
        seed: fc.integer({ min: 0, max: 1e6 }),
        kind: fc.constantFrom('bytes' as const, 'iterable' as const, 'readable' as const),
        chunk: fc.integer({ min: 1, max: 50_000 }),
      })
      .map((u) => ({ ...u, chunk: Math.max(u.chunk, Math.ceil(u.size / 2000)) })),
    { freq: 2 },
  ),
  cancel: fc.option(
    fc.oneof(
      fc.record({ how: fc.constant('signal' as const), afterMs: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ how: fc.constantFrom('break' as const, 'cancel' as const), afterOctets: fc.integer({ min: 0, max: 100_000 }) }),
    ),
    { freq: 3 },
  ),
  read: fc.oneof(fc.constant({ how: 'bytes' as const }), fc.record({ how: fc.constant('iterate' as const), pauseMs: fc.integer({ min: 0, max: 3 }) })),
});

const sessionArb = fc.record({
  serverStreams: fc.constantFrom(1, 3, 100),
  serverWindow: fc.constantFrom(16_384, 65_535, 1 << 20),
  clientWindow: fc.constantFrom(16_384, 65_535, 262_144),
  clientConnectionWindow: fc.constantFrom(65_535, 1 << 20),
  ops: fc.array(opArb, { minLength: 1, maxLength: 12 }),
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How the exchanges ended, over all runs: each way must have been seen (the property is not vacuous). */
const outcomes = { complete: 0, stoppedEarly: 0, aborted: 0, reset: 0 };

/** The server side: plays each request's plan. */
function handler(open: Set<ServerStream>) {
  return (st: ServerStream): void => {
    open.add(st);
    st.on('close', () => open.delete(st));
    const plan = JSON.parse(st.headers.find(([n]) => n === 'x-plan')![1]) as Plan;
    let upLen = 0;
    let upHash = 0x811c9dc5;
    let upEnded = false;
    let awaitingUpload = false;
    st.on('data', (c) => {
      upLen += c.length;
      upHash = fnv(c, upHash);
    });
    st.on('end', () => {
      upEnded = true;
      if (awaitingUpload) st.resume();
    });
    const respond = (): void => {
      if (st.closed) return;
      const reset = plan.reset;
      if (reset !== null && reset.after < 0) return st.reset(reset.code);
      const body = pattern(plan.size, plan.seed);
      let off = 0;
      let chunks = 0;
      let pausing = false;
      let pausesLeft = 10;
      const producer = (max: number): Uint8Array | null | 'deferred' => {
        if (reset !== null && off >= reset.after) {
          setImmediate(() => st.reset(reset.code));
          return 'deferred';
        }
        if (off >= body.length) {
          // An early answer ends (and says what it received) only once the upload has ended.
          awaitingUpload = !upEnded;
          return awaitingUpload ? 'deferred' : null;
        }
        if (plan.pauseEvery > 0 && chunks > 0 && chunks % plan.pauseEvery === 0 && !pausing && pausesLeft > 0) {
          pausing = true;
          pausesLeft--;
          setTimeout(() => st.resume(), plan.pauseMs);
          return 'deferred';
        }
        pausing = false;
        const limit = reset !== null ? reset.after : body.length;
        const n = Math.max(1, Math.min(max, plan.chunk, limit - off));
        const c = body.subarray(off, off + n);
        off += n;
        chunks++;
        return c;
      };
      const headers: Array<[string, string]> = [];
      if (plan.contentLength) headers.push(['content-length', String(plan.size)]);
      if (!plan.early) headers.push(['x-up-len', String(upLen)], ['x-up-hash', String(upHash)]);
      const trailers =
        plan.trailers || plan.early
          ? () =>
              [
                ['x-sum', String(fnv(body))],
                ['x-up-len', String(upLen)],
                ['x-up-hash', String(upHash)],
              ] as Array<[string, string]>
          : null;
      st.respond(200, headers, producer, trailers ? { trailers } : {});
    };
    if (plan.early) respond();
    else st.on('end', respond);
  };
}

function uploadBody(u: NonNullable<Op['upload']>): BodyInit {
  const all = pattern(u.size, u.seed);
  const parts: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += u.chunk) parts.push(all.subarray(o, o + u.chunk));
  if (u.kind === 'bytes') return all;
  if (u.kind === 'readable') return Readable.from(parts.map((p) => Buffer.from(p)));
  return (async function* () {
    for (const p of parts) {
      yield p;
      await new Promise((r) => setImmediate(r));
    }
  })();
}

/** Runs one op; returns a description of what went wrong, or null. `phase[i]` says where it is. */
async function runOp(s: Awaited<ReturnType<typeof connect>>, op: Op, i: number, phase: string[]): Promise<string | null> {
  phase[i] = 'waiting to start';
  await sleep(op.startMs);
  phase[i] = 'requested';
  const { plan, upload, cancel } = op;
  const expected = pattern(plan.size, plan.seed);
  const ac = cancel?.how === 'signal' ? new AbortController() : null;
  if (ac !== null && cancel?.how === 'signal') setTimeout(() => ac.abort(), cancel.afterMs);
  // What may legitimately end the exchange early.
  const allowed = new Set<string>();
  if (ac !== null) allowed.add('ABORTED');
  if (plan.reset !== null) allowed.add(errorCodeName(plan.reset.code));
  const fields: Array<[string, string]> = [
    [':method', upload ? 'POST' : 'GET'],
    [':path', `/op/${i}`],
    ['x-plan', JSON.stringify(plan)],
  ];
  const received: Uint8Array[] = [];
  let got = 0;
  try {
    const r = await s.request(fields, { ...(upload ? { body: uploadBody(upload) } : {}), ...(ac ? { signal: ac.signal } : {}) });
    if (r.status !== 200) return `op ${i}: status ${r.status}`;
    phase[i] = `reading the body of stream ${r.streamId}`;
    const stopAt = cancel !== null && cancel.how !== 'signal' ? cancel.afterOctets : Infinity;
    let stopped = false;
    if (op.read.how === 'bytes' && stopAt === Infinity) {
      const b = await r.bytes();
      received.push(b);
      got = b.length;
    } else {
      const pause = op.read.how === 'iterate' ? op.read.pauseMs : 0;
      for await (const c of r.body) {
        received.push(c.slice());
        got += c.length;
        if (got >= stopAt) {
          stopped = true;
          if (cancel!.how === 'cancel') r.cancel();
          break;
        }
        if (pause > 0) await sleep(pause);
      }
    }
    const body = Buffer.concat(received);
    if (!Buffer.from(expected.subarray(0, body.length)).equals(body)) return `op ${i}: body octets differ from the pattern within the first ${body.length}`;
    if (stopped) {
      outcomes.stoppedEarly++;
      return null;
    }
    if (body.length !== expected.length) return `op ${i}: ${body.length} octets instead of ${expected.length}`;
    if (plan.reset !== null) return `op ${i}: completed though the server resets it`;
    phase[i] = 'awaiting the trailers';
    const trailers = await r.trailers;
    const t = new Map(trailers);
    const upExpected = upload ? pattern(upload.size, upload.seed) : new Uint8Array(0);
    const upLen = String(upExpected.length);
    const upHash = String(fnv(upExpected));
    if (plan.trailers || plan.early) {
      if (t.get('x-sum') !== String(fnv(expected))) return `op ${i}: trailer x-sum ${t.get('x-sum')}`;
      if (t.get('x-up-len') !== upLen || t.get('x-up-hash') !== upHash)
        return `op ${i}: upload arrived as ${t.get('x-up-len')} octets (${t.get('x-up-hash')}), sent ${upLen} (${upHash})`;
    } else if (trailers.length !== 0) return `op ${i}: unexpected trailers`;
    if (!plan.early && (r.get('x-up-len') !== upLen || r.get('x-up-hash') !== upHash)) {
      return `op ${i}: upload arrived as ${r.get('x-up-len')} octets (${r.get('x-up-hash')}), sent ${upLen} (${upHash})`;
    }
    outcomes.complete++;
    return null;
  } catch (e) {
    if (!(e instanceof Http2Error)) return `op ${i}: threw ${String(e)}`;
    if (!allowed.has(e.code)) return `op ${i}: ${e.code}: ${e.message} (allowed: ${[...allowed].join(', ') || 'none'})`;
    const body = Buffer.concat(received);
    if (!Buffer.from(expected.subarray(0, body.length)).equals(body)) return `op ${i}: octets before the ${e.code} differ from the pattern`;
    if (e.code === 'ABORTED') outcomes.aborted++;
    else outcomes.reset++;
    return null;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/**
 * The suite's run has a fixed seed: the last check (every way of ending was exercised) failed about one
 * random run in ten, when no plan stopped reading early. Deeper runs (H2KIT_PROPERTY_RUNS) are random
 * unless H2KIT_PROPERTY_SEED is given.
 */
function propertySeed(): { seed?: number } {
  const seed = process.env.H2KIT_PROPERTY_SEED;
  if (seed !== undefined) return { seed: Number(seed) };
  return process.env.H2KIT_PROPERTY_RUNS === undefined ? { seed: 3 } : {};
}

describe('client and server under random interleavings', () => {
  it('keep every completed stream intact and leave no stream behind', async () => {
    await fc.assert(
      fc.asyncProperty(sessionArb, async (cfg) => {
        const open = new Set<ServerStream>();
        const errors: unknown[] = [];
        const closes: string[] = [];
        const server = createServer({
          settings: { maxConcurrentStreams: cfg.serverStreams, initialWindowSize: cfg.serverWindow },
          handler: handler(open),
          onError: (e) => errors.push(e),
          onConnectionClose: (info) => {
            if (info.error) closes.push(`the server closed the connection: ${info.error.message}`);
          },
        });
        const { port } = await server.listen(0, '127.0.0.1');
        const s = await connect(`http://127.0.0.1:${port}`, {
          settings: { initialWindowSize: cfg.clientWindow, connectionWindowSize: cfg.clientConnectionWindow },
        });
        try {
          // Until the server's SETTINGS arrive the client may open 100 streams (§6.5.2); a server limit below that refuses
          // the excess with REFUSED_STREAM (retryable). Past one round trip, the limit is known and the queue keeps to it.
          await s.ping();
          const phase: string[] = [];
          const done = (i: number) => (r: string | null) => {
            phase[i] = 'done';
            return r;
          };
          const results = await Promise.race([
            Promise.all(cfg.ops.map((op, i) => runOp(s, op, i, phase).then(done(i)))),
            sleep(30_000).then(() => [
              `the operations did not finish within 30 s: ${phase
                .map((p, i) => `op ${i} ${p}`)
                .filter((p) => !p.endsWith(' done'))
                .join('; ')}; client streams ${s.activeStreams}, queued ${s.pendingRequests}, server streams ${server.getConnections()[0]?.streamCount}`,
            ]),
          ]);
          const failures = results.filter((r) => r !== null);
          expect([...failures, ...closes]).toEqual([]);
          const conn = (): { streamCount: number } | undefined => server.getConnections()[0];
          const settled = await until(() => s.activeStreams === 0 && s.pendingRequests === 0 && (conn()?.streamCount ?? 0) === 0 && open.size === 0, 5000);
          expect({ settled, client: s.activeStreams, queued: s.pendingRequests, server: conn()?.streamCount, handlerStreams: open.size }).toEqual({
            settled: true,
            client: 0,
            queued: 0,
            server: 0,
            handlerStreams: 0,
          });
          expect(s.stats).toMatchObject({ heldBody: 0, streams: 0, headerBlock: 0 });
          expect(errors).toEqual([]);
          // The connection is still good.
          const last = await s.request([
            [':path', '/last'],
            [
              'x-plan',
              JSON.stringify({ size: 10, seed: 1, chunk: 10, pauseEvery: 0, pauseMs: 0, trailers: false, contentLength: true, early: false, reset: null }),
            ],
          ]);
          expect(Buffer.from(await last.bytes()).equals(Buffer.from(pattern(10, 1)))).toBe(true);
        } finally {
          s.destroy();
          await server.close({ graceful: false, timeout: 200 });
        }
      }),
      { numRuns: Number(process.env.H2KIT_PROPERTY_RUNS ?? 25), endOnFailure: true, ...propertySeed() },
    );
    for (const [how, n] of Object.entries(outcomes)) expect(n, `exchanges that ended as ${how}`).toBeGreaterThan(0);
  }, 300_000);
});
