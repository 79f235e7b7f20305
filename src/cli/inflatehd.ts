/**
 * inflatehd: HPACK header blocks in (JSON cases with "wire"), decoded header
 * lists out as JSON, as nghttp2's inflatehd, streaming. Beyond nghttp2:
 * --verify (compare with each case's "headers", any number of files) and
 * --explain (describe every representation).
 */
import { Argument, Option } from 'commander';
import { DEFAULT_HEADER_TABLE_SIZE, HpackError, Inflater, type TraceItem } from '../hpack/index.js';
import { octetsToTextLossy, textToOctets } from '../hpack/octets.js';
import {
  CasesWriter,
  consumeInput,
  InOrder,
  maxCaseSizeOption,
  nestedJson,
  octetsForJson,
  Progress,
  parseArgs,
  program,
  Reporter,
  sizeArg,
  tableSizeArg,
  UsageError,
  writeErr,
  writeHeaders,
  writeOut,
} from './common.js';
import { CaseScanner, caseValue, type ScannedCase } from './io/json-cases.js';
import { checkInflateCase, explainInflateCase, type InflateCase, inflateCaseFromFields } from './validate.js';

const HELP = `
Input (stdin or FILE) is JSON, as in hpack-test-case or deflatehd's output:
  {"cases": [{"wire": "8286..."}, ...]}
  "wire" is an HPACK header block in hex (either case). All cases share one
  decoder. A case's "header_table_size" is applied as a SETTINGS change before
  it; "headers" is what --verify compares with. Other keys are ignored.

Output (stdout) is JSON, one case per input case:
  {"cases": [{"seq": 0, "wire": "8286...",
     "headers": [{":method": "GET"}, ...]}, ...]}
  "header_table_size" appears when the decoder's maximum table size changed
  during the case; -d adds "header_table"; --explain adds "trace". A name or
  value that is not UTF-8 is never altered: its case is written with
  "header_encoding": "latin1" (every char is one octet), which deflatehd reads.

Errors name the case and byte offset. After a case fails, the compression
context is lost, so the later cases of that input are skipped (and said so).

Examples:
  $ deflatehd < story_00.json | inflatehd
  $ inflatehd --verify hpack-test-case/*/story_*.json

Exit status: 0 all cases decoded (and verified), 1 a case, a file or the
input was bad (the good cases are still written) or --verify verified
nothing, 2 bad options, 70 the output could not be written or an internal
error, 141 stdout was closed (| head).
`;

// The case's layout, as octets (written without per-char work).
const K_SEQ = Buffer.from('    {\n      "seq": ');
const K_WIRE = Buffer.from(',\n      "wire": "');
const K_HEADERS = Buffer.from('",\n      "headers": ');
const K_END = Buffer.from('\n    }');

interface Options {
  dumpHeaderTable?: boolean;
  tableSize: number;
  verify?: boolean;
  explain?: boolean;
  maxHeaderListSize: number;
  maxCaseSize: number;
}

export async function main(argv: string[]): Promise<number> {
  const p = program('inflatehd', 'Decode HPACK (RFC 7541) header blocks, strictly.')
    .usage('[OPTIONS] [FILE...]')
    .addArgument(new Argument('[FILE...]', 'input files; more than one only with --verify').default(undefined, 'standard input'))
    .option('-d, --dump-header-table', 'add the dynamic table after each case to the output')
    .option('-s, --table-size <N>', 'initial SETTINGS_HEADER_TABLE_SIZE of the decoder', tableSizeArg, DEFAULT_HEADER_TABLE_SIZE)
    .option('--verify', 'compare each decoded list with the case\'s "headers"; one line per file, exit 1 on any mismatch')
    .option('--explain', 'add a "trace" to each case: every representation with its offset, bytes, kind, index and Huffman use')
    .addOption(
      new Option('--max-header-list-size <SIZE>', 'largest decoded header list (name + value + 32 per field; K, M, G suffixes)')
        .argParser(sizeArg)
        .default(16 * 1024 * 1024, '16M'),
    )
    .addOption(maxCaseSizeOption())
    .addHelpText('after', HELP);
  if (!parseArgs(p, argv)) return 0;
  const o = p.opts<Options>();
  const files = p.args;
  if (o.verify) {
    if (o.dumpHeaderTable || o.explain) throw new UsageError('--verify writes no JSON; it cannot be combined with -d or --explain');
    return verify(files.length > 0 ? files : ['-'], o);
  }
  if (files.length > 1) throw new UsageError('more than one FILE needs --verify (each file is its own compression context)');
  const out = new CasesWriter();
  const progress = new Progress('inflatehd');
  const report = new Reporter('inflatehd', progress);
  const inflater = newInflater(o);

  await decodeStory(files[0], o, report, progress, (c, index) => {
    const before = inflater.maxTableSize;
    if (c.tableSize !== undefined) inflater.changeTableSize(c.tableSize);
    let headers: Array<[string, string]>;
    let latin1 = false;
    let trace: TraceItem[] | undefined;
    try {
      if (o.explain) {
        const r = inflater.inflateTrace(c.block);
        trace = r.trace;
        ({ headers, latin1 } = octetsForJson(r.headers));
      } else {
        headers = inflater.inflate(c.block);
      }
    } catch (e) {
      if (!(e instanceof HpackError) || e.code !== 'INVALID_UTF8' || !e.headers) throw e;
      headers = e.headers;
      latin1 = true;
    }
    if (latin1) report.note(`case ${index}: a name or value is not UTF-8; written with "header_encoding": "latin1"`);
    const after = inflater.maxTableSize;
    out.begin();
    out.bytes(K_SEQ);
    out.int(index);
    out.bytes(K_WIRE);
    // Checked to be hex: nothing in it needs escaping. Copied as given, as nghttp2 does.
    if (c.source) out.raw(c.source.bytes, c.source.wireStart, c.source.wireEnd);
    else out.ascii(c.wire!);
    out.bytes(K_HEADERS);
    writeHeaders(out, headers);
    if (after !== before) {
      out.ascii(',\n      "header_table_size": ');
      out.int(after);
    }
    if (latin1) out.ascii(',\n      "header_encoding": "latin1"');
    if (o.dumpHeaderTable) {
      const t = inflater.getTable(latin1 ? 'latin1' : 'utf8');
      out.ascii(',\n      "header_table": ');
      out.text(nestedJson({ entries: t.entries, size: t.size, max_size: t.maxSize }, '      '));
    }
    if (trace) {
      out.ascii(',\n      "trace": ');
      out.text(
        nestedJson(
          trace.map((t) => traceJson(t, c.block, latin1)),
          '      ',
        ),
      );
    }
    out.bytes(K_END);
  });
  progress.clear();
  out.close();
  return report.failed > 0 ? 1 : 0;
}

function newInflater(o: Options): Inflater {
  return new Inflater({
    maxHeaderListSize: o.maxHeaderListSize,
    ...(o.tableSize !== DEFAULT_HEADER_TABLE_SIZE ? { maxTableSize: o.tableSize } : {}),
  });
}

/**
 * Reads one story and calls `decode` for each valid case, in order. Reports
 * bad cases and decoding errors; after a case that could not be decoded the
 * rest of the story is skipped (its blocks may refer to entries the failed
 * block added). Returns the number of cases decoded.
 */
async function decodeStory(
  file: string | undefined,
  o: Options,
  report: Reporter,
  progress: Progress,
  decode: (c: InflateCase, index: number) => void,
): Promise<{ decoded: number; raw: number }> {
  let lostAt = -1;
  let skipped = 0;
  let decoded = 0;
  let raw = 0;
  // "headers" becomes a value only for --verify; otherwise it is checked as JSON and skipped.
  const fieldSet = { headers: o.verify === true, wire: true, tableSize: true, encoding: true };

  const fail = (index: number, message: string, breaks: boolean) => {
    report.error(`case ${index}: ${message}`);
    if (breaks && lostAt < 0) lostAt = index;
  };
  const run = (checked: InflateCase, index: number) => {
    try {
      decode(checked, index);
      decoded++;
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      fail(index, `byte ${e.offset}: ${e.message.replace(/ \(byte \d+\)$/, '')} [${e.code}]`, e.breaksContext);
    }
  };
  // Synchronous for good cases; a promise only where zod has to explain a bad one.
  const handle = (c: ScannedCase): Promise<void> | void => {
    if (lostAt >= 0) {
      if (skipped++ === 0) report.note(`case ${c.index}: skipped, with every later case: the compression context was lost at case ${lostAt}`);
      return;
    }
    if (!c.ok) return fail(c.index, `line ${c.errorLine}, column ${c.errorColumn}: ${c.error}`, true);
    const f = c.fields;
    if (o.verify && (f ? f.wire === undefined && f.wireStart < 0 && f.headers !== undefined : isRawCase(c.value))) {
      // raw-data stories have headers but nothing encoded: nothing to verify.
      raw++;
      return;
    }
    const where = `line ${c.line}, column ${c.column}`;
    const check = (needHeaders: boolean) => (f ? inflateCaseFromFields(f, needHeaders, c.bytes) : checkInflateCase(c.value, needHeaders));
    const checked = check(o.verify === true);
    if (checked) return run(checked, c.index);
    const value = caseValue(c);
    if (o.verify) {
      // Bad "headers" but a good "wire": decode anyway, so the context stays in sync.
      const block = check(false);
      if (block) {
        return explainInflateCase(value, true).then((why) => {
          fail(c.index, `${where}: ${why}`, false);
          run({ ...block, pairs: undefined }, c.index);
        });
      }
    }
    return explainInflateCase(value, o.verify === true).then((why) => fail(c.index, `${where}: ${why}`, true));
  };

  const inOrder = new InOrder(handle);
  const scanner = new CaseScanner(inOrder.push, { fields: fieldSet, maxCaseSize: o.maxCaseSize });
  const drain = () => inOrder.drain();
  const inputError = await consumeInput(file, scanner, drain, (bytes) => progress.update(scanner.cases, bytes));
  if (skipped > 1) report.note(`${skipped} cases skipped after case ${lostAt}`);
  if (inputError) report.error(inputError);
  if (raw > 0 && decoded > 0) report.error(`${raw} case${raw === 1 ? ' has' : 's have'} "headers" but no "wire"`);
  return { decoded, raw };
}

function isRawCase(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !('wire' in v) && 'headers' in v;
}

/** A trace item as JSON: octets shown as text (or latin1 with header_encoding), bytes in hex. */
function traceJson(t: TraceItem, block: Uint8Array, latin1: boolean): Record<string, unknown> {
  const text = (s: string | undefined) => (s === undefined || latin1 ? s : octetsToTextLossy(s));
  const item: Record<string, unknown> = {
    offset: t.offset,
    bytes: Buffer.from(block.subarray(t.offset, t.offset + t.length)).toString('hex'),
    kind: t.kind,
  };
  if (t.index !== undefined) item['index'] = t.index;
  if (t.nameHuffman !== undefined) item['name_huffman'] = t.nameHuffman;
  if (t.valueHuffman !== undefined) item['value_huffman'] = t.valueHuffman;
  if (t.name !== undefined) item['name'] = text(t.name);
  if (t.value !== undefined) item['value'] = text(t.value);
  if (t.size !== undefined) item['size'] = t.size;
  if (t.inserted !== undefined) item['inserted'] = t.inserted;
  if (t.evicted !== undefined) item['evicted'] = t.evicted;
  return item;
}

/** --verify: each file its own context; one line per file on stdout, details on stderr. */
async function verify(files: string[], o: Options): Promise<number> {
  let failedFiles = 0;
  let skippedFiles = 0;
  let totalCases = 0;
  const progress = new Progress('inflatehd');
  for (const file of files) {
    const name = file === '-' ? '(stdin)' : file;
    const report = new Reporter(`inflatehd: ${name}`, progress);
    const inflater = newInflater(o);
    let mismatches = 0;
    let cases = 0;
    const { raw } = await decodeStory(file, o, report, progress, (c, index) => {
      cases++;
      if (c.tableSize !== undefined) inflater.changeTableSize(c.tableSize);
      const got = inflater.inflateLatin1(c.block);
      if (!c.pairs) return; // already reported: nothing valid to compare with
      const want = c.latin1 ? c.pairs : c.pairs.map(([n, v]): [string, string] => [textToOctets(n), textToOctets(v)]);
      if (!samePairs(got, want)) {
        mismatches++;
        report.error(`case ${index}: decoded headers differ from "headers":\n${shortDiff(want, got).join('\n')}`);
      }
    });
    totalCases += cases;
    progress.clear();
    if (report.failed === 0 && cases === 0 && raw > 0) {
      skippedFiles++;
      writeOut(`SKIP ${name}: raw header data, no "wire" to decode (${raw} cases)\n`);
    } else if (report.failed === 0 && cases === 0) {
      // A file with nothing in it verifies nothing: most likely an encoder that wrote no case.
      failedFiles++;
      writeOut(`FAIL ${name}: no cases to verify\n`);
    } else if (report.failed === 0) {
      writeOut(`PASS ${name}: ${cases} case${cases === 1 ? '' : 's'}\n`);
    } else {
      failedFiles++;
      const what =
        mismatches > 0 ? (mismatches === 1 ? '1 case differs' : `${mismatches} cases differ`) : `${report.failed} error${report.failed === 1 ? '' : 's'}`;
      writeOut(`FAIL ${name}: ${what} (${cases} of its cases decoded)\n`);
    }
  }
  const passed = files.length - failedFiles - skippedFiles;
  const skipped = skippedFiles > 0 ? `, ${skippedFiles} skipped` : '';
  writeOut(
    `${files.length} file${files.length === 1 ? '' : 's'}: ${passed} passed, ${failedFiles} failed${skipped}; ${totalCases} case${totalCases === 1 ? '' : 's'} verified\n`,
  );
  if (totalCases === 0) {
    // A CI job must not read "nothing checked" as success.
    const why =
      skippedFiles === files.length
        ? 'every file is raw header data without "wire" (encode it first: deflatehd < FILE | inflatehd --verify)'
        : 'no file has a case to decode';
    writeErr(`inflatehd: nothing was verified: ${why}\n`);
    return 1;
  }
  return failedFiles > 0 ? 1 : 0;
}

function samePairs(a: ReadonlyArray<readonly [string, string]>, b: ReadonlyArray<readonly [string, string]>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

/**
 * A short line diff of two header lists (octet strings): '-' expected only,
 * '+' decoded only, at most 8 lines. Longest common subsequence, so that one
 * missing or extra field shows as one line.
 */
export function shortDiff(want: ReadonlyArray<readonly [string, string]>, got: ReadonlyArray<readonly [string, string]>): string[] {
  const show = (h: readonly [string, string]) => {
    const t = `${h[0]}: ${h[1]}`;
    const s = Buffer.from(t, 'latin1').toString('utf8');
    return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s).slice(1, -1);
  };
  const a = want.slice(0, 400).map(show);
  const b = got.slice(0, 400).map(show);
  const n = a.length;
  const m = b.length;
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while ((i < n || j < m) && lines.length < 8) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      lines.push(`  + [${j}] ${b[j]}`);
      j++;
    } else {
      lines.push(`  - [${i}] ${a[i]}`);
      i++;
    }
  }
  if (want.length !== got.length) lines.push(`  (expected ${want.length} fields, decoded ${got.length})`);
  return lines;
}
