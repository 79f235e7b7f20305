/**
 * Numbers printed the way nghttp2's deflatehd prints them, digit for digit:
 * the Overall ratio with C's "%.02f" and percentage_of_original_size as
 * jansson writes a real ("%.17g", then ".0" when that looks like an integer).
 * C rounds the exact binary value half to even; JavaScript's toFixed and
 * toPrecision round ties away from zero (0.125 -> "0.13", C: "0.12"), so ties
 * are decided here on the exact value.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** x = m * 2^e with m odd (x finite, non-zero, positive). */
function decompose(x: number): { m: bigint; e: number } {
  f64[0] = x;
  const hi = u32[1]!;
  const lo = u32[0]!;
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e++;
  }
  return { m, e };
}

/** The exact decimal value of a positive finite x: digits / 10^scale. */
function exactDecimal(x: number): { digits: bigint; scale: number } {
  const { m, e } = decompose(x);
  return e >= 0 ? { digits: m << BigInt(e), scale: 0 } : { digits: m * 5n ** BigInt(-e), scale: -e };
}

/** n / 10^k rounded half to even (k >= 0). */
function roundHalfEven(n: bigint, k: number): bigint {
  if (k <= 0) return n * 10n ** BigInt(-k);
  const d = 10n ** BigInt(k);
  const q = n / d;
  const r2 = (n % d) * 2n;
  return r2 > d || (r2 === d && (q & 1n) === 1n) ? q + 1n : q;
}

function special(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

/** C's printf("%.*f", digits, x). */
export function printfFixed(x: number, digits: number): string {
  const s = special(x);
  if (s !== null) return s;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  let q = 0n;
  if (a !== 0) {
    const { digits: n, scale } = exactDecimal(a);
    q = roundHalfEven(n, scale - digits);
  }
  const t = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? sign + t : `${sign}${t.slice(0, -digits)}.${t.slice(-digits)}`;
}

/** C's printf("%.*g", precision, x). */
export function printfG(x: number, precision = 17): string {
  const s = special(x);
  if (s !== null) return s;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  const p = Math.max(precision, 1);
  if (a === 0) return `${sign}0`;
  const { digits: n, scale } = exactDecimal(a);
  const len = n.toString().length;
  let q = roundHalfEven(n, len - p);
  let exp = len - 1 - scale; // decimal exponent of the first significant digit
  if (q.toString().length > p) {
    q /= 10n;
    exp++;
  }
  const ds = q.toString().padStart(p, '0');
  let out: string;
  if (exp < -4 || exp >= p) {
    const mant = stripZeros(`${ds[0]}.${ds.slice(1)}`);
    out = `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp >= 0) {
    out = stripZeros(`${ds.slice(0, exp + 1)}.${ds.slice(exp + 1)}`);
  } else {
    out = stripZeros(`0.${'0'.repeat(-exp - 1)}${ds}`);
  }
  return sign + out;
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  s = s.replace(/0+$/, '');
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/**
 * A real as jansson writes it (json_dumps, default precision 17): "%.17g",
 * ".0" appended when there is neither '.' nor 'e', and the exponent without
 * '+' or leading zeros. The common case takes toPrecision(17), which agrees
 * with C except on ties (an exact value of 18 significant digits) and below
 * 1e-4 (where %g switches to an exponent): those take the exact path.
 */
export function janssonReal(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e17) {
    // a = m * 2^e with m odd. An integer (e >= 0) below 1e17 has at most 17 digits. For e < 0
    // the exact decimal digits are m * 5^-e = a * 10^-e: floor(log10(a)) - e + 1 of them,
    // at least 20 when e < -23 (a >= 1e-4). Only about 18 digits can make a tie.
    // e >= 0 is an integer; e < -23 leaves a * 2^23 (exact: a power of two) fractional.
    const scaled = a * 8388608;
    if (a === Math.floor(a) || scaled !== Math.floor(scaled) || Math.abs(Math.floor(Math.log10(a)) - exponentOfOddSignificand(a) + 1 - 18) > 1) {
      const t = stripFraction(a.toPrecision(17));
      return x < 0 ? `-${t}` : t;
    }
  }
  let s = printfG(x, 17);
  if (!/[.eni]/.test(s)) s += '.0';
  // "1e-05" -> "1e-5", "1e+20" -> "1e20".
  return s.replace(/e\+?(-?)0*(\d)/, 'e$1$2');
}

/** toPrecision's fixed notation with its trailing zeros dropped, keeping one digit after the point. */
function stripFraction(t: string): string {
  let end = t.length;
  while (t.charCodeAt(end - 1) === 0x30) end--;
  if (t.charCodeAt(end - 1) === 0x2e) end++; // "400." -> "400.0"
  return end === t.length ? t : t.slice(0, end);
}

/** e such that a = m * 2^e with m odd (a normal, positive). */
function exponentOfOddSignificand(a: number): number {
  f64[0] = a;
  const lo = u32[0]!;
  const hi = (u32[1]! & 0xfffff) | 0x100000;
  const e = ((u32[1]! >>> 20) & 0x7ff) - 1075;
  // Trailing zero bits of the 53-bit significand hi:lo.
  return lo !== 0 ? e + 31 - Math.clz32(lo & -lo) : e + 32 + 31 - Math.clz32(hi & -hi);
}
