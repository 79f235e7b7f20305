/** The frame writer's memory: regions handed out stay intact, unless the transport says it has consumed them. */
import { describe, expect, it } from 'vitest';
import { encodeSettings, FrameWriter, pooledSlabs } from '../../src/h2/frame-writer.js';
import { CONNECTION_PREFACE, Connection, Flag, FrameType, parseFrameHeader, type Transport } from '../../src/h2/index.js';
import { Deflater, Inflater } from '../../src/hpack/index.js';

const frameBytes = (w: FrameWriter, streamId: number, fill: number): void => w.frame(FrameType.DATA, 0, streamId, new Uint8Array(100).fill(fill));

describe('FrameWriter', () => {
  it('never writes a taken region again by itself', () => {
    const w = new FrameWriter();
    const taken: Array<{ view: Uint8Array; copy: Buffer }> = [];
    for (let i = 0; i < 2000; i++) {
      frameBytes(w, 1, i & 0xff);
      for (const view of w.take()!) taken.push({ view, copy: Buffer.from(view) });
    }
    for (const t of taken) expect(Buffer.from(t.view).equals(t.copy)).toBe(true);
  });

  it('rewind(): the next frames reuse the slab from its start, only when everything was taken', () => {
    const w = new FrameWriter();
    frameBytes(w, 1, 1);
    const [first] = w.take()!;
    w.rewind();
    frameBytes(w, 3, 2);
    const [second] = w.take()!;
    expect(second!.buffer).toBe(first!.buffer);
    expect(second!.byteOffset).toBe(0);
    expect(first![8]).toBe(3); // the first region now holds the second frame: it had been consumed
    // Written but not taken: rewind() must not move.
    frameBytes(w, 5, 3);
    w.rewind();
    frameBytes(w, 7, 4);
    const chunks = w.take()!;
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(2 * 109);
    expect(parseFrameHeader(all, 0).streamId).toBe(5);
    expect(parseFrameHeader(all, 109).streamId).toBe(7);
  });

  it('consumed(): a full slab is replaced by the one retired before it, only once all of that was taken and consumed', () => {
    let consumed = false;
    const w = new FrameWriter();
    w.consumed = () => consumed;
    const buffers = new Set<ArrayBufferLike>();
    const taken: Array<{ view: Uint8Array; copy: Buffer }> = [];
    const fill = (frames: number) => {
      for (let i = 0; i < frames; i++) {
        frameBytes(w, 1, i & 0xff);
        for (const view of w.take()!) {
          buffers.add(view.buffer);
          taken.push({ view, copy: Buffer.from(view) });
        }
      }
    };
    // Nothing consumed: every slab is new memory, and what was handed out stays intact.
    fill(3000);
    const whileHeld = buffers.size;
    expect(whileHeld).toBeGreaterThan(3);
    for (const t of taken) expect(Buffer.from(t.view).equals(t.copy)).toBe(true);
    // Everything consumed from now on: the retired slab comes back instead of new memory.
    consumed = true;
    buffers.clear();
    fill(3000);
    expect(buffers.size).toBeLessThanOrEqual(2);
  });
});

/** A client: the preface and SETTINGS first, then GET requests on odd stream ids, `n` per call. */
function client(path: string): (n: number) => Uint8Array {
  const d = new Deflater();
  let nextId = 1;
  return (n) => {
    const parts: Uint8Array[] = nextId === 1 ? [CONNECTION_PREFACE, frame(FrameType.SETTINGS, 0, 0, new Uint8Array(0))] : [];
    for (let i = 0; i < n; i++) {
      const block = d.deflate([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':authority', 'a'],
        [':path', path],
      ]);
      parts.push(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, nextId, block));
      nextId += 2;
    }
    return Buffer.concat(parts);
  };
}

function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId, 5);
  b.set(payload, 9);
  return b;
}

/** Responses by stream id: status and body, from the octets the server wrote. */
function responses(out: Buffer): Map<number, { status: string; body: string }> {
  const inf = new Inflater();
  const res = new Map<number, { status: string; body: string }>();
  for (let o = 0; o < out.length; ) {
    const h = parseFrameHeader(out, o);
    const p = out.subarray(o + 9, o + 9 + h.length);
    if (h.type === FrameType.HEADERS) res.set(h.streamId, { status: inf.inflateLatin1(p).find(([n]) => n === ':status')![1], body: '' });
    if (h.type === FrameType.DATA) res.get(h.streamId)!.body += p.toString('latin1');
    o += 9 + h.length;
  }
  return res;
}

describe('the shared slab pool', () => {
  it('release() gives the slabs of a writer whose owner knows they were consumed to the next writer', () => {
    const a = new FrameWriter(0);
    a.consumed = () => true;
    frameBytes(a, 1, 1);
    const [fromA] = a.take()!;
    const before = pooledSlabs();
    a.release();
    expect(pooledSlabs()).toBe(before + 1);
    // A one-off writer (no owner to give it back, as encodeSettings() uses) leaves the pool alone.
    encodeSettings([[1, 4096]]);
    expect(pooledSlabs()).toBe(before + 1);
    const b = new FrameWriter(0);
    b.consumed = () => true;
    frameBytes(b, 3, 2);
    const [fromB] = b.take()!;
    expect(fromB!.buffer).toBe(fromA!.buffer);
    expect(pooledSlabs()).toBe(before);
    // Two writers at once never share a slab.
    const c = new FrameWriter(0);
    c.consumed = () => true;
    frameBytes(c, 5, 3);
    expect(c.take()![0]!.buffer).not.toBe(fromB!.buffer);
  });

  it('a writer whose owner cannot tell (no consumed()) keeps its slabs out of the pool: the transport may still read them', () => {
    const a = new FrameWriter(0);
    frameBytes(a, 1, 7);
    const [view] = a.take()!;
    const before = pooledSlabs();
    a.release();
    expect(pooledSlabs()).toBe(before);
    const b = new FrameWriter(0);
    for (let i = 0; i < 100; i++) {
      frameBytes(b, 3, 9);
      b.take();
    }
    expect(view![9]).toBe(7); // the first payload octet, untouched
  });

  it('a transport that still holds chunks when told of its close keeps them intact: the slab stays out of the pool', async () => {
    const held: Uint8Array[] = [];
    const first = new Connection(
      {
        write: (chunks) => held.push(...chunks),
        get bufferedAmount() {
          return held.reduce((n, c) => n + c.length, 0);
        },
        releasesWritten: true,
        end: () => {},
        destroy: () => {},
      },
      { onStream: (s) => s.respond(200, {}, 'A'.repeat(3000)) },
    );
    first.receive(client('/x')(1));
    await Promise.resolve();
    const copy = Buffer.concat(held);
    const before = pooledSlabs();
    first.onTransportClose();
    expect(pooledSlabs()).toBe(before);
    const second = new Connection(
      { write: () => {}, bufferedAmount: 0, releasesWritten: true, end: () => {}, destroy: () => {} },
      { onStream: (s) => s.respond(200, {}, 'B'.repeat(3000)) },
    );
    second.receive(client('/y')(1));
    await Promise.resolve();
    expect(Buffer.concat(held).equals(copy)).toBe(true);
    second.destroy();
  });

  it('a closed connection gives its slab back, and the next connection writes into it', async () => {
    const transport = (views: Uint8Array[]): Transport => ({
      write: (chunks) => views.push(...chunks),
      bufferedAmount: 0,
      releasesWritten: true,
      end: () => {},
      destroy: () => {},
    });
    const serve = (views: Uint8Array[]) => new Connection(transport(views), { onStream: (s) => s.respond(200, {}, `r${s.streamId}`) });
    const firstViews: Uint8Array[] = [];
    const first = serve(firstViews);
    first.receive(client('/x')(1));
    await Promise.resolve();
    const firstOut = Buffer.concat(firstViews);
    expect(responses(firstOut).get(1)!.body).toBe('r1');
    const before = pooledSlabs();
    first.onTransportClose();
    expect(pooledSlabs()).toBe(before + 1);
    const secondViews: Uint8Array[] = [];
    const second = serve(secondViews);
    second.receive(client('/y')(3));
    await Promise.resolve();
    expect(secondViews[0]!.buffer).toBe(firstViews[0]!.buffer);
    expect(responses(Buffer.concat(secondViews)).get(5)!.body).toBe('r5');
    second.destroy();
  });
});

describe('Connection over a transport that releases what it is given', () => {
  for (const releases of [true, false]) {
    it(`answers correctly (releasesWritten: ${releases}; the transport keeps views and reads them after later writes)`, async () => {
      const views: Uint8Array[] = [];
      const transport: Transport = {
        // Keeps the views without copying: what it reads at the end must still be what was written, unless it said it releases them.
        write: (chunks) => {
          if (releases) views.push(Buffer.concat(chunks));
          else views.push(...chunks);
        },
        bufferedAmount: 0,
        releasesWritten: releases,
        end: () => {},
        destroy: () => {},
      };
      const conn = new Connection(transport, {
        onStream: (s) => s.respond(200, { 'content-type': 'text/plain' }, `body of ${s.streamId} `.repeat(1 + (s.streamId % 7))),
      });
      const send = client('/x');
      for (let round = 0; round < 50; round++) {
        conn.receive(send(10));
        await Promise.resolve();
      }
      const got = responses(Buffer.concat(views));
      expect(got.size).toBe(500);
      for (const [id, r] of got) {
        expect(r.status).toBe('200');
        expect(r.body).toBe(`body of ${id} `.repeat(1 + (id % 7)));
      }
      conn.destroy();
    });
  }
});

describe('Connection over a transport whose writes complete a tick later (TLS)', () => {
  it('answers correctly and keeps to two slabs instead of filling new ones', async () => {
    const views: Uint8Array[] = [];
    let pending: Uint8Array[] = [];
    const out: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    // As a TLSSocket: the chunks count as buffered until the next turn, and are read (copied) only then.
    const transport: Transport = {
      write: (chunks) => {
        for (const c of chunks) buffers.add(c.buffer);
        pending.push(...chunks);
        views.push(...chunks);
      },
      get bufferedAmount() {
        return pending.reduce((n, c) => n + c.length, 0);
      },
      releasesWritten: true,
      end: () => {},
      destroy: () => {},
    };
    const conn = new Connection(transport, {
      // Short bodies: the client sends no WINDOW_UPDATE, and 10000 of them fit the connection's window.
      onStream: (s) => s.respond(200, { 'content-type': 'text/plain' }, `r${s.streamId}`),
    });
    const send = client('/x');
    for (let round = 0; round < 1000; round++) {
      conn.receive(send(10));
      await Promise.resolve();
      out.push(Buffer.concat(pending));
      pending = [];
    }
    const got = responses(Buffer.concat(out));
    expect(got.size).toBe(10000);
    for (const [id, r] of got) expect(r.body).toBe(`r${id}`);
    expect(buffers.size).toBeLessThanOrEqual(2);
    conn.destroy();
  });
});

describe('coalesceWrites', () => {
  for (const coalesce of [false, true]) {
    it(`responses made in separate callbacks go out in ${coalesce ? 'one write per event-loop turn' : 'a write each'} (coalesceWrites: ${coalesce})`, async () => {
      const writes: Buffer[] = [];
      const transport: Transport = {
        write: (chunks) => void writes.push(Buffer.concat(chunks)),
        bufferedAmount: 0,
        releasesWritten: true,
        end: () => {},
        destroy: () => {},
      };
      const pending: Array<() => void> = [];
      const conn = new Connection(transport, {
        onStream: (s) => pending.push(() => s.respond(200, {}, `r${s.streamId}`)),
        ...(coalesce ? { coalesceWrites: true } : {}),
      });
      conn.receive(client('/x')(3));
      await new Promise((r) => setImmediate(r));
      writes.length = 0;
      // Three answers, each from its own callback (as from three backend sockets' reads in one loop turn).
      for (const answer of pending) {
        answer();
        await Promise.resolve();
      }
      await new Promise((r) => setImmediate(r));
      const got = responses(Buffer.concat(writes));
      expect([...got.values()].map((r) => r.body).sort()).toEqual(['r1', 'r3', 'r5']);
      expect(writes.length).toBe(coalesce ? 1 : 3);
      conn.destroy();
    });
  }
  it('coalesceWrites: answers made before and after a read in the same turn, and what the read itself calls for (a PING ACK), go out in one write', async () => {
    const writes: Buffer[] = [];
    const transport: Transport = {
      write: (chunks) => void writes.push(Buffer.concat(chunks)),
      bufferedAmount: 0,
      releasesWritten: true,
      end: () => {},
      destroy: () => {},
    };
    const pending: Array<() => void> = [];
    const conn = new Connection(transport, { onStream: (s) => pending.push(() => s.respond(200, {}, `r${s.streamId}`)), coalesceWrites: true });
    conn.receive(client('/x')(2));
    await new Promise((r) => setImmediate(r));
    writes.length = 0;
    pending[0]!();
    conn.receive(frame(FrameType.PING, 0, 0, new Uint8Array(8)));
    pending[1]!();
    await new Promise((r) => setImmediate(r));
    expect(writes.length).toBe(1);
    const types: number[] = [];
    for (let o = 0; o < writes[0]!.length; ) {
      const h = parseFrameHeader(writes[0]!, o);
      types.push(h.type);
      o += 9 + h.length;
    }
    expect(types.filter((t) => t === FrameType.PING)).toHaveLength(1);
    expect([...responses(writes[0]!).values()].map((r) => r.body).sort()).toEqual(['r1', 'r3']);
    conn.destroy();
  });
});
