/**
 * The frame reader over input cut anywhere: frames whose headers and payloads straddle chunks,
 * chunks that are views into larger buffers at an offset, and Buffers mixed with Uint8Arrays.
 * Every payload handed up must be the frame's own octets, whatever the cuts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../src/h2/frame-reader.js';
import { CONNECTION_PREFACE, FrameType } from '../../src/h2/index.js';

function frameOctets(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = (payload.length >>> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId);
  out.set(payload, 9);
  return out;
}

interface Got {
  type: number;
  flags: number;
  streamId: number;
  payload: number[];
}

describe('FrameReader', () => {
  it('hands up every frame with its own payload, however the input is cut', () => {
    const frameArb = fc.record({
      type: fc.constantFrom(FrameType.DATA, FrameType.HEADERS, FrameType.PING, FrameType.WINDOW_UPDATE),
      flags: fc.integer({ min: 0, max: 255 }),
      streamId: fc.integer({ min: 0, max: 0x7fffffff }),
      payload: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
        (frames, cuts, kinds) => {
          // The client's preface and a SETTINGS frame first, as a server's reader expects them.
          const parts = [CONNECTION_PREFACE, frameOctets(FrameType.SETTINGS, 0, 0, new Uint8Array(0))];
          for (const f of frames) parts.push(frameOctets(f.type, f.flags, f.streamId, f.payload));
          const wire = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            wire.set(p, at);
            at += p.length;
          }
          const got: Got[] = [];
          const reader = new FrameReader(
            {
              frame: (h, payload) => got.push({ type: h.type, flags: h.flags, streamId: h.streamId, payload: [...payload] }),
              framingError: (_code, message) => {
                throw new Error(message);
              },
            },
            true,
            16384,
          );
          // Cut the wire into chunks of the drawn sizes, each made a different way: a fresh
          // Uint8Array, a view at an offset into a larger buffer, a Buffer, a Buffer slice.
          let pos = 0;
          for (let i = 0; pos < wire.length; i++) {
            const n = Math.min(cuts[i % cuts.length]!, wire.length - pos);
            const octets = wire.subarray(pos, pos + n);
            const kind = kinds[i % kinds.length]!;
            let chunk: Uint8Array;
            if (kind === 0) chunk = octets.slice();
            else if (kind === 1) {
              const big = new Uint8Array(n + 37).fill(0xee);
              big.set(octets, 17);
              chunk = big.subarray(17, 17 + n);
            } else if (kind === 2) chunk = Buffer.from(octets);
            else chunk = Buffer.concat([Buffer.alloc(5, 0xdd), Buffer.from(octets)]).subarray(5);
            reader.push(chunk);
            pos += n;
          }
          expect(reader.buffered).toBe(0);
          const want: Got[] = [
            { type: FrameType.SETTINGS, flags: 0, streamId: 0, payload: [] },
            ...frames.map((f) => ({ type: f.type, flags: f.flags, streamId: f.streamId, payload: [...f.payload] })),
          ];
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});
