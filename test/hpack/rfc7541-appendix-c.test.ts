/**
 * RFC 7541 Appendix C examples, decoded and encoded, with the dynamic table
 * after every block.
 *
 * C.5 and C.6 assume a 256-octet table agreed beforehand. In HTTP/2 a
 * maximum below the protocol's initial 4096 must be signalled, so here the
 * first block of each series is preceded by the size update 3fe101 (256):
 * the decoder is told SETTINGS_HEADER_TABLE_SIZE = 256 and requires it, and
 * the encoder emits it.
 */
import { describe, expect, it } from 'vitest';
import { Deflater, type DeflaterOptions, type HeaderInput, Inflater } from '../../src/hpack/index.js';
import { hex, unhex } from '../helpers/vectors.js';

type Pair = [string, string];
interface Step {
  name: string;
  wire: string;
  headers: Pair[];
  table: Array<[string, string, number]>;
  size: number;
}

const C3_TABLES = {
  one: [[':authority', 'www.example.com', 57]] as Array<[string, string, number]>,
  two: [
    ['cache-control', 'no-cache', 53],
    [':authority', 'www.example.com', 57],
  ] as Array<[string, string, number]>,
  three: [
    ['custom-key', 'custom-value', 54],
    ['cache-control', 'no-cache', 53],
    [':authority', 'www.example.com', 57],
  ] as Array<[string, string, number]>,
};
const REQ1: Pair[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQ2: Pair[] = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: Pair[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];

const C3: Step[] = [
  { name: 'C.3.1', wire: '828684410f7777772e6578616d706c652e636f6d', headers: REQ1, table: C3_TABLES.one, size: 57 },
  { name: 'C.3.2', wire: '828684be58086e6f2d6361636865', headers: REQ2, table: C3_TABLES.two, size: 110 },
  { name: 'C.3.3', wire: '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565', headers: REQ3, table: C3_TABLES.three, size: 164 },
];
const C4: Step[] = [
  { name: 'C.4.1', wire: '828684418cf1e3c2e5f23a6ba0ab90f4ff', headers: REQ1, table: C3_TABLES.one, size: 57 },
  { name: 'C.4.2', wire: '828684be5886a8eb10649cbf', headers: REQ2, table: C3_TABLES.two, size: 110 },
  { name: 'C.4.3', wire: '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf', headers: REQ3, table: C3_TABLES.three, size: 164 },
];

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RES1: Pair[] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', DATE1],
  ['location', LOC],
];
const RES2: Pair[] = [
  [':status', '307'],
  ['cache-control', 'private'],
  ['date', DATE1],
  ['location', LOC],
];
const RES3: Pair[] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', DATE2],
  ['location', LOC],
  ['content-encoding', 'gzip'],
  ['set-cookie', COOKIE],
];
const RES_TABLES: Array<Array<[string, string, number]>> = [
  [
    ['location', LOC, 63],
    ['date', DATE1, 65],
    ['cache-control', 'private', 52],
    [':status', '302', 42],
  ],
  [
    [':status', '307', 42],
    ['location', LOC, 63],
    ['date', DATE1, 65],
    ['cache-control', 'private', 52],
  ],
  [
    ['set-cookie', COOKIE, 98],
    ['content-encoding', 'gzip', 52],
    ['date', DATE2, 65],
  ],
];
const C5: Step[] = [
  {
    name: 'C.5.1',
    wire: '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
    headers: RES1,
    table: RES_TABLES[0]!,
    size: 222,
  },
  { name: 'C.5.2', wire: '4803333037c1c0bf', headers: RES2, table: RES_TABLES[1]!, size: 222 },
  {
    name: 'C.5.3',
    wire: '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
    headers: RES3,
    table: RES_TABLES[2]!,
    size: 215,
  },
];
const C6: Step[] = [
  {
    name: 'C.6.1',
    wire: '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
    headers: RES1,
    table: RES_TABLES[0]!,
    size: 222,
  },
  { name: 'C.6.2', wire: '4883640effc1c0bf', headers: RES2, table: RES_TABLES[1]!, size: 222 },
  {
    name: 'C.6.3',
    wire: '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
    headers: RES3,
    table: RES_TABLES[2]!,
    size: 215,
  },
];

const SIZE_UPDATE_256 = '3fe101';

function tableOf(t: { entries: Array<{ index: number; name: string; value: string; size: number }> }): Array<[string, string, number]> {
  for (const [i, e] of t.entries.entries()) expect(e.index).toBe(62 + i);
  return t.entries.map((e) => [e.name, e.value, e.size]);
}

function series(label: string, steps: Step[], tableSize: number, deflater: () => Deflater) {
  describe(label, () => {
    it('decodes each block, with the table after it', () => {
      const inf = new Inflater(tableSize === 4096 ? {} : { maxTableSize: tableSize });
      steps.forEach((s, i) => {
        const wire = (i === 0 && tableSize !== 4096 ? SIZE_UPDATE_256 : '') + s.wire;
        expect(inf.inflate(unhex(wire)), s.name).toEqual(s.headers);
        const t = inf.getTable();
        expect(tableOf(t), s.name).toEqual(s.table);
        expect(t.size, s.name).toBe(s.size);
        expect(t.maxSize).toBe(tableSize);
      });
    });

    it('encodes each block to the bytes the RFC prints, with the same table', () => {
      const d = deflater();
      steps.forEach((s, i) => {
        const wire = (i === 0 && tableSize !== 4096 ? SIZE_UPDATE_256 : '') + s.wire;
        expect(hex(d.deflate(s.headers)), s.name).toBe(wire);
        const t = d.getTable();
        expect(tableOf(t), s.name).toEqual(s.table);
        expect(t.size, s.name).toBe(s.size);
      });
    });
  });
}

const nghttp2 =
  (o: DeflaterOptions = {}) =>
  () =>
    new Deflater(4096, o);
series('C.3 requests without Huffman', C3, 4096, nghttp2({ huffman: 'never' }));
series('C.4 requests with Huffman', C4, 4096, nghttp2());
// nghttp2 never indexes `location`; the RFC's responses index every field, as the linear strategy does.
series('C.5 responses without Huffman, 256-octet table', C5, 256, () => new Deflater(256, { strategy: 'linear', huffman: 'never' }));
// The RFC Huffman-codes "307" although that is no shorter; nghttp2 ('auto') codes only what gets shorter.
series('C.6 responses with Huffman, 256-octet table', C6, 256, () => new Deflater(256, { strategy: 'linear', huffman: 'always' }));

describe('C.2 header field representations', () => {
  const cases: Array<{ name: string; wire: string; field: HeaderInput; table: Array<[string, string, number]> }> = [
    {
      name: 'C.2.1 literal with indexing',
      wire: '400a637573746f6d2d6b65790d637573746f6d2d686561646572',
      field: ['custom-key', 'custom-header'],
      table: [['custom-key', 'custom-header', 55]],
    },
    { name: 'C.2.2 literal without indexing', wire: '040c2f73616d706c652f70617468', field: [':path', '/sample/path'], table: [] },
    { name: 'C.2.3 literal never indexed', wire: '100870617373776f726406736563726574', field: ['password', 'secret', { sensitive: true }], table: [] },
    { name: 'C.2.4 indexed', wire: '82', field: [':method', 'GET'], table: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const inf = new Inflater();
      expect(inf.inflate(unhex(c.wire))).toEqual([[c.field[0], c.field[1]]]);
      expect(tableOf(inf.getTable())).toEqual(c.table);
      const d = new Deflater(4096, { huffman: 'never' });
      expect(hex(d.deflate([c.field]))).toBe(c.wire);
      expect(tableOf(d.getTable())).toEqual(c.table);
    });
  }
});
