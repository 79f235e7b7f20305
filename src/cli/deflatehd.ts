/**
 * deflatehd: header sets in (hpack-test-case JSON, or HTTP/1 text with -t),
 * HPACK header blocks out as JSON, as nghttp2's deflatehd, streaming.
 */
import { Argument, Option } from 'commander';
import { DEFAULT_HEADER_TABLE_SIZE, DEFLATE_MAX_HEADER_TABLE_SIZE, Deflater, type DeflateStrategy, type HuffmanMode } from '../hpack/index.js';
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
  tableSizeArg,
  writeErr,
  writeHeaders,
  writeHeadersFrom,
} from './common.js';
import { Http1Reader, type Http1Set } from './io/http1-text.js';
import { CaseScanner, caseValue, type ScannedCase } from './io/json-cases.js';
import { janssonReal, printfFixed } from './printf.js';
import { checkDeflateCase, type DeflateCase, deflateCaseFromFields, explainDeflateCase } from './validate.js';

const HELP = `
Input (stdin or FILE) is one of:
  JSON, as in hpack-test-case:
    {"cases": [{"headers": [{"name": "value"}, ...]}, ...]}
    Other keys are ignored, and so is a case's "header_table_size" (as in
    nghttp2) unless --apply-table-sizes is given. "header_encoding": "latin1"
    means every char of its names and values is one octet.
  HTTP/1 text (-t): "name: value" lines, a blank line after each header set:
    :method: GET
    :path: /

Output (stdout) is JSON, one case per input case:
  {"cases": [{"seq": 0, "input_length": 28, "output_length": 4,
     "percentage_of_original_size": 14.285714285714285, "wire": "8286...",
     "headers": [...], "header_table_size": 4096}, ...]}
  "header_table_size" is on the first case (the -s value; with
  --apply-table-sizes also on later cases that set one); -d adds
  "header_table". stderr ends with "Overall: input=N output=N ratio=R".

Example:
  $ printf ':method: GET\\n:path: /\\n\\n' | deflatehd -t
  $ deflatehd < story_00.json | inflatehd --verify

Exit status: 0 all cases encoded, 1 a case or the input was bad (the good
cases are still written), 2 bad options, 70 the output could not be written
or an internal error, 141 stdout was closed (| head).
`;

// The case's layout, as octets (written without per-char work).
const K_SEQ = Buffer.from('    {\n      "seq": ');
const K_INPUT = Buffer.from(',\n      "input_length": ');
const K_OUTPUT = Buffer.from(',\n      "output_length": ');
const K_PERCENT = Buffer.from(',\n      "percentage_of_original_size": ');
const K_WIRE = Buffer.from(',\n      "wire": "');
const K_HEADERS = Buffer.from('",\n      "headers": ');
const K_END = Buffer.from('\n    }');

interface Options {
  http1text?: boolean;
  tableSize: number;
  deflateTableSize: number;
  dumpHeaderTable?: boolean;
  strategy: DeflateStrategy;
  huffman: HuffmanMode;
  applyTableSizes?: boolean;
  maxCaseSize: number;
}

export async function main(argv: string[]): Promise<number> {
  const p = program('deflatehd', 'Encode header sets with HPACK (RFC 7541) as nghttp2 does.')
    .usage('[OPTIONS] [FILE]')
    .addArgument(new Argument('[FILE]', 'input file').default(undefined, 'standard input'))
    .option('-t, --http1text', 'read HTTP/1-style "name: value" header sets instead of JSON')
    .option('-s, --table-size <N>', 'SETTINGS_HEADER_TABLE_SIZE of the peer (the decoder)', tableSizeArg, DEFAULT_HEADER_TABLE_SIZE)
    .option('-S, --deflate-table-size <N>', "the encoder's own maximum table size", tableSizeArg, DEFLATE_MAX_HEADER_TABLE_SIZE)
    .option('-d, --dump-header-table', 'add the dynamic table after each case to the output')
    .option('--apply-table-sizes', 'apply a case\'s "header_table_size" as a SETTINGS_HEADER_TABLE_SIZE change before it (nghttp2 ignores it)')
    .addOption(
      new Option(
        '--strategy <name>',
        'how representations are chosen: nghttp2 (byte-identical with nghttp2), linear (index every field), static (static table only), naive (literals only)',
      )
        .choices(['nghttp2', 'linear', 'static', 'naive'])
        .default('nghttp2'),
    )
    .addOption(
      new Option('--huffman <when>', 'Huffman-code strings: auto (when shorter, as nghttp2), always, never')
        .choices(['auto', 'always', 'never'])
        .default('auto'),
    )
    .addOption(maxCaseSizeOption())
    .addHelpText('after', HELP);
  if (!parseArgs(p, argv)) return 0;
  const o = p.opts<Options>();
  const file = p.args[0];

  const deflater = new Deflater(o.deflateTableSize, { strategy: o.strategy, huffman: o.huffman });
  // As nghttp2's deflatehd: -s is a SETTINGS change only when it differs from the default.
  if (o.tableSize !== DEFAULT_HEADER_TABLE_SIZE) deflater.changeTableSize(o.tableSize);

  const progress = new Progress('deflatehd');
  const report = new Reporter('deflatehd', progress);
  const out = new CasesWriter();
  let inputTotal = 0;
  let outputTotal = 0;
  let cases = 0;

  // header_table_size goes on the first case written (the -s value, as
  // nghttp2), and with --apply-table-sizes (the case's own) on later cases that
  // set one, so that inflatehd applies the same SETTINGS changes.
  const encode = (seq: number, c: DeflateCase) => {
    if (c.tableSize !== undefined) deflater.changeTableSize(c.tableSize);
    const wire = deflater.deflate(c.fields);
    const inputLength = deflater.inputOctets;
    inputTotal += inputLength;
    outputTotal += wire.length;
    const tableSize = cases === 0 ? (c.tableSize ?? o.tableSize) : c.tableSize;
    out.begin();
    out.bytes(K_SEQ);
    out.int(seq);
    out.bytes(K_INPUT);
    out.int(inputLength);
    out.bytes(K_OUTPUT);
    out.int(wire.length);
    out.bytes(K_PERCENT);
    out.ascii(janssonReal(inputLength === 0 ? 0 : (wire.length / inputLength) * 100));
    out.bytes(K_WIRE);
    out.hex(wire);
    out.bytes(K_HEADERS);
    if (c.source) writeHeadersFrom(out, c.pairs, c.source.bytes, c.source.spans);
    else writeHeaders(out, c.pairs);
    if (tableSize !== undefined) {
      out.ascii(',\n      "header_table_size": ');
      out.int(tableSize);
    }
    if (c.latin1) out.ascii(',\n      "header_encoding": "latin1"');
    if (o.dumpHeaderTable) {
      const t = deflater.getTable(c.latin1 ? 'latin1' : 'utf8');
      const table = { entries: t.entries, size: t.size, max_size: t.maxSize, deflate_size: t.size, max_deflate_size: t.maxSize };
      out.ascii(',\n      "header_table": ');
      out.text(nestedJson(table, '      '));
    }
    out.bytes(K_END);
    cases++;
  };

  const onJsonCase = (c: ScannedCase): Promise<void> | void => {
    if (!c.ok) {
      report.error(`case ${c.index}: line ${c.errorLine}, column ${c.errorColumn}: ${c.error}`);
      return;
    }
    const apply = o.applyTableSizes === true;
    const checked = c.fields ? deflateCaseFromFields(c.fields, apply, c.bytes) : checkDeflateCase(c.value, apply);
    if (checked) {
      encode(c.index, checked);
      return;
    }
    return explainDeflateCase(caseValue(c), apply).then((why) => report.error(`case ${c.index}: line ${c.line}, column ${c.column}: ${why}`));
  };

  const onHttp1Set = (s: Http1Set): void => {
    if (!s.ok) {
      report.error(`header set ${s.index}: line ${s.errorLine}: ${s.error}`);
      return;
    }
    // Lines are read as octets: present them as UTF-8 text when they are, else as latin1.
    const { headers, latin1 } = octetsForJson(s.headers);
    const fields = latin1 ? headers.map(([n, v]): [Buffer, Buffer] => [Buffer.from(n, 'latin1'), Buffer.from(v, 'latin1')]) : headers;
    encode(s.index, { fields, pairs: headers, tableSize: undefined, latin1 });
  };

  // Only "headers" and "header_encoding" (and "header_table_size" when applied) become values; the rest is checked and skipped.
  const fieldSet = { headers: true, wire: false, tableSize: o.applyTableSizes === true, encoding: true };
  const jsonCases = new InOrder(onJsonCase);
  const http1Sets = new InOrder((s: Http1Set) => onHttp1Set(s));
  const jsonScanner = o.http1text ? null : new CaseScanner(jsonCases.push, { fields: fieldSet, maxCaseSize: o.maxCaseSize });
  const http1 = o.http1text ? new Http1Reader(http1Sets.push) : null;
  const drain = () => (http1 ? http1Sets.drain() : jsonCases.drain());

  const inputError = await consumeInput(file, jsonScanner ?? http1!, drain, (bytes) => progress.update(cases, bytes));
  progress.clear();
  out.close();
  if (inputError) report.error(inputError);
  // nghttp2 prints the ratio with "%.02f": C rounds the exact binary value half to even.
  writeErr(`Overall: input=${inputTotal} output=${outputTotal} ratio=${printfFixed(inputTotal === 0 ? 0 : outputTotal / inputTotal, 2)}\n`);
  return report.failed > 0 ? 1 : 0;
}
