/**
 * The -v lines of nghttp2's tools (one formatter for h2serve and h2get):
 * the lines as nghttp 1.52 prints them (from real `nghttp -nv` runs), and
 * the role deciding what a first HEADERS is.
 */
import { describe, expect, it } from 'vitest';
import { Flag, type FrameEvent, FrameLines, FrameType, hexdump } from '../../src/h2/index.js';

const ev = (e: Partial<FrameEvent> & Pick<FrameEvent, 'direction' | 'type'>): FrameEvent => ({ connectionId: 1, flags: 0, streamId: 0, length: 0, ...e });

describe('FrameLines', () => {
  it("prints a client's exchange as nghttp -nv does", () => {
    const f = new FrameLines('client');
    const out = [
      ev({
        direction: 'send',
        type: FrameType.SETTINGS,
        length: 12,
        settings: [
          [3, 100],
          [4, 65535],
        ],
      }),
      ev({ direction: 'send', type: FrameType.PRIORITY, length: 5, streamId: 3, priority: { dependency: 0, weight: 201, exclusive: false } }),
      ev({
        direction: 'send',
        type: FrameType.HEADERS,
        flags: 0x25,
        length: 39,
        streamId: 13,
        padLength: 0,
        priority: { dependency: 11, weight: 16, exclusive: false },
        headers: [
          [':method', 'GET'],
          [':path', '/'],
        ],
      }),
      ev({
        direction: 'recv',
        type: FrameType.PUSH_PROMISE,
        flags: Flag.END_HEADERS,
        length: 28,
        streamId: 13,
        padLength: 0,
        promisedStreamId: 2,
        headers: [[':path', '/style.css']],
      }),
      ev({ direction: 'recv', type: FrameType.HEADERS, flags: Flag.END_HEADERS, length: 93, streamId: 13, padLength: 0, headers: [[':status', '200']] }),
      ev({ direction: 'recv', type: FrameType.HEADERS, flags: Flag.END_HEADERS, length: 17, streamId: 2, padLength: 0, headers: [[':status', '200']] }),
      ev({ direction: 'recv', type: FrameType.DATA, flags: Flag.END_STREAM, length: 157, streamId: 13 }),
      ev({ direction: 'send', type: FrameType.GOAWAY, length: 8, lastStreamId: 2, errorCode: 0, debugData: new Uint8Array(0) }),
    ].flatMap((e) => f.lines(e, '[  0.000]'));
    expect(out.join('\n')).toBe(
      [
        '[  0.000] send SETTINGS frame <length=12, flags=0x00, stream_id=0>',
        '          (niv=2)',
        '          [SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]',
        '          [SETTINGS_INITIAL_WINDOW_SIZE(0x04):65535]',
        '[  0.000] send PRIORITY frame <length=5, flags=0x00, stream_id=3>',
        '          (dep_stream_id=0, weight=201, exclusive=0)',
        '[  0.000] send HEADERS frame <length=39, flags=0x25, stream_id=13>',
        '          ; END_STREAM | END_HEADERS | PRIORITY',
        '          (padlen=0, dep_stream_id=11, weight=16, exclusive=0)',
        '          ; Open new stream',
        '          :method: GET',
        '          :path: /',
        '[  0.000] recv (stream_id=13) :path: /style.css',
        '[  0.000] recv PUSH_PROMISE frame <length=28, flags=0x04, stream_id=13>',
        '          ; END_HEADERS',
        '          (padlen=0, promised_stream_id=2)',
        '[  0.000] recv (stream_id=13) :status: 200',
        '[  0.000] recv HEADERS frame <length=93, flags=0x04, stream_id=13>',
        '          ; END_HEADERS',
        '          (padlen=0)',
        '          ; First response header',
        '[  0.000] recv (stream_id=2) :status: 200',
        '[  0.000] recv HEADERS frame <length=17, flags=0x04, stream_id=2>',
        '          ; END_HEADERS',
        '          (padlen=0)',
        '          ; First push response header',
        '[  0.000] recv DATA frame <length=157, flags=0x01, stream_id=13>',
        '          ; END_STREAM',
        '[  0.000] send GOAWAY frame <length=8, flags=0x00, stream_id=0>',
        '          (last_stream_id=2, error_code=NO_ERROR(0x00), opaque_data(0)=[])',
      ].join('\n'),
    );
  });

  it('a final response after a 1xx is a first response header too; trailers are not', () => {
    const f = new FrameLines('client');
    const cat = (headers: Array<[string, string]>, flags: number = Flag.END_HEADERS) =>
      f.lines(ev({ direction: 'recv', type: FrameType.HEADERS, flags, streamId: 1, headers }), '').filter((l) => l.includes('; First'));
    expect(cat([[':status', '100']])).toEqual(['          ; First response header']);
    expect(cat([[':status', '200']])).toEqual(['          ; First response header']);
    expect(cat([['x-trailer', '1']], Flag.END_HEADERS | Flag.END_STREAM)).toEqual([]);
  });

  it('the server role: a received request opens a stream, a sent response is a first response header', () => {
    const f = new FrameLines('server');
    const last = (e: FrameEvent) => f.lines(e, '').filter((l) => l.startsWith('          ; ') && !l.includes('END_'));
    expect(last(ev({ direction: 'recv', type: FrameType.HEADERS, flags: 5, streamId: 1, headers: [[':method', 'GET']] }))).toEqual([
      '          ; Open new stream',
    ]);
    expect(last(ev({ direction: 'send', type: FrameType.HEADERS, flags: 4, streamId: 1, headers: [[':status', '200']] }))).toEqual([
      '          ; First response header',
    ]);
    expect(last(ev({ direction: 'send', type: FrameType.HEADERS, flags: 4, streamId: 2, headers: [[':status', '200']] }))).toEqual([
      '          ; First push response header',
    ]);
  });

  it('sent fields split over CONTINUATION are shown under the frame that ends the block', () => {
    const f = new FrameLines('client');
    const out = [
      ev({ direction: 'send', type: FrameType.HEADERS, flags: 0x01, length: 16384, streamId: 1, padLength: 0 }),
      ev({
        direction: 'send',
        type: FrameType.CONTINUATION,
        flags: Flag.END_HEADERS,
        length: 10,
        streamId: 1,
        headers: [
          [':path', '/'],
          ['x-big', 'y'],
        ],
      }),
    ].flatMap((e) => f.lines(e, '[  0.000]'));
    expect(out).toEqual([
      '[  0.000] send HEADERS frame <length=16384, flags=0x01, stream_id=1>',
      '          ; END_STREAM',
      '          (padlen=0)',
      '          ; Open new stream',
      '[  0.000] send CONTINUATION frame <length=10, flags=0x04, stream_id=1>',
      '          ; END_HEADERS',
      '          :path: /',
      '          x-big: y',
    ]);
  });

  it('hexdump: the canonical hex+ASCII display, as nghttp --hexdump', () => {
    const b = Buffer.from('00000604000000000000030000006400', 'hex');
    expect(hexdump(Buffer.concat([b, Buffer.from('body{}\n')]))).toBe(
      [
        '00000000  00 00 06 04 00 00 00 00  00 00 03 00 00 00 64 00  |..............d.|',
        '00000010  62 6f 64 79 7b 7d 0a                              |body{}.|',
        '00000017',
      ].join('\n'),
    );
  });
});

describe('FrameLines and header text', () => {
  it('prints field values as the event has them (text), sent and received alike: no second decoding', () => {
    const f = new FrameLines('server');
    const out = [
      ev({
        direction: 'recv',
        type: FrameType.HEADERS,
        flags: Flag.END_HEADERS | Flag.END_STREAM,
        length: 20,
        streamId: 1,
        headers: [
          [':path', '/'],
          ['x-name', 'caf\u00e9'],
        ],
      }),
      ev({
        direction: 'send',
        type: FrameType.HEADERS,
        flags: Flag.END_HEADERS,
        length: 20,
        streamId: 1,
        headers: [
          [':status', '200'],
          ['x-back', '\u00e9t\u00e9 \u2603'],
        ],
      }),
    ].flatMap((e) => f.lines(e, '[id=1]'));
    expect(out).toContain('[id=1] recv (stream_id=1) x-name: caf\u00e9');
    expect(out).toContain('          x-back: \u00e9t\u00e9 \u2603');
  });
});
