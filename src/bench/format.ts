/**
 * Numbers as h2load prints them, so that what parses h2load's summary parses
 * ours: two decimals rounded half away from zero, sizes with K/M/G (powers
 * of 1024), durations in us (whole), ms or s (two decimals).
 */

/** Two decimals, rounded half away from zero (h2load's util::dtos). */
export function dtos(n: number): string {
  const m = Math.round(Math.abs(n) * 100);
  const whole = Math.floor(m / 100);
  const frac = m % 100;
  return `${n < 0 && m > 0 ? '-' : ''}${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/** An octet count with a K, M or G suffix (powers of 1024) and two decimals; plain below 1024. */
export function sizeUnit(n: number): string {
  if (n >= 2 ** 30) return `${dtos(n / 2 ** 30)}G`;
  if (n >= 2 ** 20) return `${dtos(n / 2 ** 20)}M`;
  if (n >= 2 ** 10) return `${dtos(n / 2 ** 10)}K`;
  return String(Math.floor(n));
}

/** A duration in seconds: whole microseconds below 1 ms, else ms or s with two decimals. */
export function duration(seconds: number): string {
  if (seconds >= 1) return `${dtos(seconds)}s`;
  if (seconds >= 0.001) return `${dtos(seconds * 1000)}ms`;
  return `${Math.trunc(seconds * 1e6)}us`;
}

/** A duration given in whole microseconds (h2load's "finished in"). */
export function durationUs(us: number): string {
  if (us >= 1_000_000) return `${dtos(us / 1_000_000)}s`;
  if (us >= 1000) return `${dtos(us / 1000)}ms`;
  return `${Math.trunc(us)}us`;
}

/** A duration option's value as h2load prints it in "spawning thread" lines (1, 0.5, 2.25). */
export function seconds(s: number): string {
  return String(Number(s.toPrecision(6)));
}

/** Right-aligns `s` in `width` columns (C++'s std::setw). */
export function pad(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}
