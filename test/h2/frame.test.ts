/** The frame codec (RFC 9113 §4, §6): round trips, flag masking, and each parser's validation. */
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  encodeContinuation,
  encodeData,
  encodeFrame,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodePriority,
  encodePushPromise,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  errorCodeName,
  Flag,
  FRAME_HEADER_LENGTH,
  type Frame,
  FrameType,
  frameTypeName,
  H2Error,
  Http2Error,
  parseFrame,
  parseFrameHeader,
  SettingId,
  settingName,
} from '../../src/h2/index.js';

const parse = (bytes: Uint8Array): Frame | H2Error => parseFrame(parseFrameHeader(bytes), bytes.subarray(FRAME_HEADER_LENGTH));
const ok = (bytes: Uint8Array): Frame => {
  const f = parse(bytes);
  if (f instanceof H2Error) throw new Error(f.toString());
  return f;
};
const err = (bytes: Uint8Array): H2Error => {
  const f = parse(bytes);
  expect(f).toBeInstanceOf(H2Error);
  return f as H2Error;
};
const u8 = (...b: number[]) => new Uint8Array(b);

describe('frame header (§4.1)', () => {
  it('reads length, type, flags and stream id; ignores the reserved bit', () => {
    const h = parseFrameHeader(u8(0x01, 0x02, 0x03, 0x09, 0xff, 0x80, 0, 0, 5));
    expect(h).toEqual({ length: 0x010203, type: 9, flags: 0xff, streamId: 5 });
  });

  it('writes the reserved bit unset', () => {
    const f = encodeFrame(FrameType.DATA, 0, 0xffffffff, u8());
    expect(f[5]! & 0x80).toBe(0);
    expect(parseFrameHeader(f).streamId).toBe(0x7fffffff);
  });
});

describe('round trips', () => {
  it('DATA, plain and padded', () => {
    const d = ok(encodeData(3, u8(1, 2, 3), { endStream: true }));
    expect(d).toMatchObject({ type: FrameType.DATA, streamId: 3, flags: Flag.END_STREAM, padLength: 0 });
    const p = ok(encodeData(3, u8(1, 2, 3), { padLength: 7 }));
    expect(p).toMatchObject({ padLength: 7, length: 11, flags: Flag.PADDED });
    expect([...(p as { data: Uint8Array }).data]).toEqual([1, 2, 3]);
  });

  it('HEADERS with priority and padding', () => {
    const h = ok(encodeHeaders(5, u8(0x82), { endStream: true, padLength: 2, priority: { exclusive: true, dependency: 3, weight: 256 } }));
    expect(h).toMatchObject({ type: FrameType.HEADERS, streamId: 5, padLength: 2, priority: { exclusive: true, dependency: 3, weight: 256 } });
    expect([...(h as { fragment: Uint8Array }).fragment]).toEqual([0x82]);
    expect(h.flags).toBe(Flag.END_STREAM | Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY);
  });

  it('PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION', () => {
    expect(ok(encodePriority(7, { exclusive: false, dependency: 1, weight: 1 }))).toMatchObject({ priority: { exclusive: false, dependency: 1, weight: 1 } });
    expect(ok(encodeRstStream(7, ErrorCode.CANCEL))).toMatchObject({ errorCode: ErrorCode.CANCEL });
    expect(
      ok(
        encodeSettings([
          [SettingId.MAX_FRAME_SIZE, 20000],
          [0x99, 1],
        ]),
      ),
    ).toMatchObject({
      ack: false,
      settings: [
        [5, 20000],
        [0x99, 1],
      ],
    });
    expect(ok(encodeSettings([], true))).toMatchObject({ ack: true, settings: [] });
    expect(ok(encodePushPromise(1, 2, u8(0x82), { padLength: 1 }))).toMatchObject({ promisedStreamId: 2, padLength: 1 });
    expect(ok(encodePing(u8(1, 2, 3, 4, 5, 6, 7, 8), true))).toMatchObject({ ack: true });
    const g = ok(encodeGoaway(9, ErrorCode.ENHANCE_YOUR_CALM, u8(0x61)));
    expect(g).toMatchObject({ lastStreamId: 9, errorCode: ErrorCode.ENHANCE_YOUR_CALM });
    expect(ok(encodeWindowUpdate(0, 2 ** 31 - 1))).toMatchObject({ increment: 2 ** 31 - 1 });
    expect(ok(encodeContinuation(3, u8(1), false))).toMatchObject({ flags: 0, streamId: 3 });
  });

  it('unknown types parse as UnknownFrame (to be ignored)', () => {
    expect(ok(encodeFrame(0xee, 0xff, 1, u8(1)))).toMatchObject({ unknown: true, type: 0xee });
  });

  it('undefined flags are masked (§4.1)', () => {
    expect(ok(encodeFrame(FrameType.PING, 0xff, 0, new Uint8Array(8))).flags).toBe(Flag.ACK);
    expect(ok(encodeFrame(FrameType.WINDOW_UPDATE, 0xff, 0, u8(0, 0, 0, 1))).flags).toBe(0);
    expect(ok(encodeFrame(FrameType.DATA, 0xff & ~Flag.PADDED, 1, u8(1))).flags).toBe(Flag.END_STREAM);
  });
});

describe('validation', () => {
  const cases: Array<[string, Uint8Array, 'connection' | 'stream', number]> = [
    ['DATA on stream 0 (§6.1)', encodeFrame(FrameType.DATA, 0, 0, u8(1)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['DATA padding = payload (§6.1)', encodeFrame(FrameType.DATA, Flag.PADDED, 1, u8(3, 0, 0)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['DATA PADDED without Pad Length (§4.2)', encodeFrame(FrameType.DATA, Flag.PADDED, 1, u8()), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['HEADERS on stream 0 (§6.2)', encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 0, u8(0x82)), 'connection', ErrorCode.PROTOCOL_ERROR],
    [
      'HEADERS padding beyond the fragment (§6.2)',
      encodeFrame(FrameType.HEADERS, Flag.PADDED | Flag.PRIORITY, 1, u8(1, 0, 0, 0, 0, 0)),
      'connection',
      ErrorCode.PROTOCOL_ERROR,
    ],
    ['HEADERS PRIORITY too short (§4.2)', encodeFrame(FrameType.HEADERS, Flag.PRIORITY, 1, u8(0, 0)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['PRIORITY on stream 0 (§6.3)', encodeFrame(FrameType.PRIORITY, 0, 0, u8(0, 0, 0, 1, 1)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['PRIORITY of 4 octets (§6.3)', encodeFrame(FrameType.PRIORITY, 0, 3, u8(0, 0, 0, 1)), 'stream', ErrorCode.FRAME_SIZE_ERROR],
    ['RST_STREAM on stream 0 (§6.4)', encodeFrame(FrameType.RST_STREAM, 0, 0, u8(0, 0, 0, 0)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['RST_STREAM of 2 octets (§6.4)', encodeFrame(FrameType.RST_STREAM, 0, 1, u8(0, 0)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['SETTINGS on stream 1 (§6.5)', encodeFrame(FrameType.SETTINGS, 0, 1, u8()), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['SETTINGS ACK with payload (§6.5)', encodeFrame(FrameType.SETTINGS, Flag.ACK, 0, u8(0, 1, 0, 0, 0, 0)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['SETTINGS of 5 octets (§6.5)', encodeFrame(FrameType.SETTINGS, 0, 0, u8(0, 1, 0, 0, 0)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['ENABLE_PUSH 2 (§6.5.2)', encodeSettings([[SettingId.ENABLE_PUSH, 2]]), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['INITIAL_WINDOW_SIZE 2^31 (§6.5.2)', encodeSettings([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]]), 'connection', ErrorCode.FLOW_CONTROL_ERROR],
    ['MAX_FRAME_SIZE 16383 (§6.5.2)', encodeSettings([[SettingId.MAX_FRAME_SIZE, 16383]]), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['MAX_FRAME_SIZE 2^24 (§6.5.2)', encodeSettings([[SettingId.MAX_FRAME_SIZE, 2 ** 24]]), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['PUSH_PROMISE on stream 0 (§6.6)', encodeFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 0, u8(0, 0, 0, 2)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['PUSH_PROMISE without a promised id (§4.2)', encodeFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, u8(0, 0)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['PING on stream 1 (§6.7)', encodeFrame(FrameType.PING, 0, 1, new Uint8Array(8)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['PING of 9 octets (§6.7)', encodeFrame(FrameType.PING, 0, 0, new Uint8Array(9)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['GOAWAY on stream 3 (§6.8)', encodeFrame(FrameType.GOAWAY, 0, 3, new Uint8Array(8)), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['GOAWAY of 4 octets (§6.8)', encodeFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(4)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['WINDOW_UPDATE of 5 octets (§6.9)', encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, new Uint8Array(5)), 'connection', ErrorCode.FRAME_SIZE_ERROR],
    ['WINDOW_UPDATE 0 on the connection (§6.9)', encodeWindowUpdate(0, 0), 'connection', ErrorCode.PROTOCOL_ERROR],
    ['WINDOW_UPDATE 0 on a stream (§6.9)', encodeWindowUpdate(3, 0), 'stream', ErrorCode.PROTOCOL_ERROR],
    ['CONTINUATION on stream 0 (§6.10)', encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 0, u8(0x82)), 'connection', ErrorCode.PROTOCOL_ERROR],
  ];
  for (const [name, bytes, scope, code] of cases) {
    it(`${name} -> ${scope} ${errorCodeName(code)}`, () => {
      const e = err(bytes);
      expect({ scope: e.scope, code: e.code, errorCode: e.errorCode }).toEqual({ scope, code: errorCodeName(code), errorCode: code });
      expect(e).toBeInstanceOf(Http2Error);
      expect(e).toBeInstanceOf(Error);
      expect(e.message).toMatch(/\S/);
    });
  }

  it('HEADERS with padding exactly filling the rest is valid (empty fragment)', () => {
    const h = ok(encodeFrame(FrameType.HEADERS, Flag.PADDED | Flag.END_HEADERS, 1, u8(2, 0, 0)));
    expect((h as { fragment: Uint8Array }).fragment.length).toBe(0);
  });
});

describe('names', () => {
  it('frame types, error codes and settings by name, unknown ones by number', () => {
    expect(frameTypeName(FrameType.WINDOW_UPDATE)).toBe('WINDOW_UPDATE');
    expect(frameTypeName(0x20)).toBe('UNKNOWN(0x20)');
    expect(errorCodeName(ErrorCode.HTTP_1_1_REQUIRED)).toBe('HTTP_1_1_REQUIRED');
    expect(errorCodeName(0x1234)).toBe('0x1234');
    expect(settingName(SettingId.INITIAL_WINDOW_SIZE)).toBe('SETTINGS_INITIAL_WINDOW_SIZE');
    expect(settingName(0x42)).toBe('UNKNOWN(0x42)');
  });
});
