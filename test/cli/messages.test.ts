/** Why a case is refused: one line that says what the case has and what the format wants, for every schema error. */
import { describe, expect, it } from 'vitest';
import { explainDeflateCase, explainInflateCase } from '../../src/cli/validate.js';
import { run } from '../helpers/cli.js';

const LIST = 'it must be a list of one-field objects such as [{":method": "GET"}]';
const ONE_NAME = 'a header must be an object with exactly one name';
const TABLE = 'it must be an integer from 0 to 4294967295';

// [case, message for deflatehd --apply-table-sizes]
const deflate: Array<[unknown, string]> = [
  [5, 'the case is a number (5); a case must be an object'],
  [null, 'the case is null; a case must be an object'],
  ['GET', 'the case is a string ("GET"); a case must be an object'],
  [[{ headers: [] }], 'the case is a list ([{"headers":[]}]); a case must be an object'],
  [{ wire: '82' }, 'headers is missing; a case must have "headers", a list of one-field objects such as [{":method": "GET"}]'],
  [{ headers: null }, `headers is null; ${LIST}`],
  [{ headers: 'x' }, `headers is a string ("x"); ${LIST}`],
  [{ headers: { ':method': 'GET' } }, `headers is an object ({":method":"GET"}); ${LIST}`],
  [{ headers: 3 }, `headers is a number (3); ${LIST}`],
  [{ headers: true }, `headers is true; ${LIST}`],
  [{ headers: [{ a: 'b' }, null] }, `headers[1] is null; ${ONE_NAME}, such as {":path": "/"}`],
  [{ headers: ['a: b'] }, `headers[0] is a string ("a: b"); ${ONE_NAME}, such as {":path": "/"}`],
  [{ headers: [['a', 'b']] }, `headers[0] is a list (["a","b"]); ${ONE_NAME}, such as {":path": "/"}`],
  [{ headers: [7] }, `headers[0] is a number (7); ${ONE_NAME}, such as {":path": "/"}`],
  [{ headers: [{}] }, `headers[0] has no name ({}); ${ONE_NAME}`],
  [{ headers: [{ a: 'b', c: 'd' }] }, `headers[0] has 2 names ("a", "c"); ${ONE_NAME}`],
  [{ headers: [{ a: 1 }] }, 'headers[0].a is a number (1); a header value must be a string'],
  [{ headers: [{ 'x-y': null }] }, 'headers[0]["x-y"] is null; a header value must be a string'],
  [{ headers: [{ a: ['b'] }] }, 'headers[0].a is a list (["b"]); a header value must be a string'],
  [{ headers: [], header_table_size: -1 }, `header_table_size is a number (-1); ${TABLE}`],
  [{ headers: [], header_table_size: 2 ** 32 }, `header_table_size is a number (4294967296); ${TABLE}`],
  [{ headers: [], header_table_size: 1.5 }, `header_table_size is a number (1.5); ${TABLE}`],
  [{ headers: [], header_table_size: '4096' }, `header_table_size is a string ("4096"); ${TABLE}`],
  [{ headers: [], header_encoding: 'ebcdic' }, 'header_encoding is a string ("ebcdic"); it must be "utf8" or "latin1"'],
  [{ headers: [], header_encoding: 1 }, 'header_encoding is a number (1); it must be "utf8" or "latin1"'],
  [{ headers: [{ a: '\ud800' }] }, 'headers[0]: the value has a lone surrogate (\\uD800-\\uDFFF) and is not Unicode text'],
  [{ headers: [{ a: 'é€' }], header_encoding: 'latin1' }, 'headers[0]: the value has a char above U+00FF, but header_encoding is latin1'],
];

const inflate: Array<[unknown, boolean, string]> = [
  [5, false, 'the case is a number (5); a case must be an object'],
  [{ headers: [] }, false, 'wire is missing; a case must have "wire", an HPACK header block in hex'],
  [{ wire: 82 }, false, 'wire is a number (82); it must be a string of hex digits'],
  [{ wire: null }, false, 'wire is null; it must be a string of hex digits'],
  [{ wire: '8g' }, false, 'wire: invalid hex digit "g" at position 1'],
  [{ wire: '828' }, false, 'wire: odd number of hex digits at position 3'],
  [{ wire: '82', header_table_size: -5 }, false, `header_table_size is a number (-5); ${TABLE}`],
  [{ wire: '82', header_encoding: 'x' }, false, 'header_encoding is a string ("x"); it must be "utf8" or "latin1"'],
  [{ wire: '82' }, true, 'headers is missing; --verify compares the decoded list with it'],
  [{ wire: '82', headers: 'GET' }, true, `headers is a string ("GET"); ${LIST}`],
  [{ wire: '82', headers: [{ a: false }] }, true, 'headers[0].a is false; a header value must be a string'],
];

describe('messages for bad cases', () => {
  it('deflatehd: every way a case can be wrong', async () => {
    for (const [v, want] of deflate) expect(await explainDeflateCase(v, true), JSON.stringify(v)).toBe(want);
  });

  it('inflatehd and inflatehd --verify: every way a case can be wrong', async () => {
    for (const [v, verify, want] of inflate) expect(await explainInflateCase(v, verify), JSON.stringify(v)).toBe(want);
  });

  it("no message carries zod's own wording", async () => {
    const all = [
      ...(await Promise.all(deflate.map(([v]) => explainDeflateCase(v, true)))),
      ...(await Promise.all(inflate.map(([v, verify]) => explainInflateCase(v, verify)))),
    ];
    for (const m of all) expect(m).not.toMatch(/expected a |Invalid input|received|record|a array/);
  });

  it('as the commands print them, with the case and its position', async () => {
    const r = await run('deflatehd', [], JSON.stringify({ cases: [{ headers: [{ a: 'b' }] }, { headers: [{ a: 'b' }, null] }, { headers: 'x' }] }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `deflatehd: case 1: line 1, column 35: headers[1] is null; ${ONE_NAME}, such as {":path": "/"}\n` +
        `deflatehd: case 2: line 1, column 64: headers is a string ("x"); ${LIST}\n` +
        'Overall: input=2 output=5 ratio=2.50\n',
    );
    const i = await run('inflatehd', ['--verify'], JSON.stringify({ cases: [{ wire: '82', headers: [{ ':method': 1 }] }] }));
    expect(i.stderr).toBe('inflatehd: (stdin): case 0: line 1, column 11: headers[0][":method"] is a number (1); a header value must be a string\n');
  });
});
