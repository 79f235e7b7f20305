/**
 * HTTP-date (RFC 9110 §5.6.7): we send IMF-fixdate and accept the two
 * obsolete forms as well, because recipients MUST accept all three.
 * Times are whole seconds since the epoch.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
export function formatHttpDate(seconds: number): string {
  // toUTCString() produces exactly IMF-fixdate for years 0000..9999.
  return new Date(seconds * 1000).toUTCString();
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
const IMF_FIXDATE = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// "Sunday, 06-Nov-94 08:49:37 GMT"
const RFC850_DATE = /^([A-Za-z]{6,9}), (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// "Sun Nov  6 08:49:37 1994"
const ASCTIME_DATE = /^([A-Za-z]{3}) ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Parses an HTTP-date into seconds since the epoch, or returns undefined when
 * the text is not one (the caller then ignores the field, as §13.1.3 and
 * §13.1.4 require). `nowSeconds` resolves two-digit rfc850 years.
 */
export function parseHttpDate(text: string, nowSeconds: number = Date.now() / 1000): number | undefined {
  const value = text.trim();
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) {
    if (!DAYS.includes(m[1] as string)) return undefined;
    return build(Number(m[4]), m[3] as string, Number(m[2]), m[5] as string, m[6] as string, m[7] as string);
  }
  m = RFC850_DATE.exec(value);
  if (m !== null) {
    if (!LONG_DAYS.includes(m[1] as string)) return undefined;
    // §5.6.7: a two-digit year more than 50 years in the future is the most
    // recent past year with the same last two digits.
    const nowYear = new Date(nowSeconds * 1000).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[4]);
    if (year > nowYear + 50) year -= 100;
    return build(year, m[3] as string, Number(m[2]), m[5] as string, m[6] as string, m[7] as string);
  }
  m = ASCTIME_DATE.exec(value);
  if (m !== null) {
    if (!DAYS.includes(m[1] as string)) return undefined;
    return build(Number(m[7]), m[2] as string, Number((m[3] as string).trim()), m[4] as string, m[5] as string, m[6] as string);
  }
  return undefined;
}

function build(year: number, monthName: string, day: number, hh: string, mm: string, ss: string): number | undefined {
  const month = MONTHS.indexOf(monthName);
  const hours = Number(hh);
  const minutes = Number(mm);
  const seconds = Number(ss);
  // Seconds may be 60 (a leap second, §5.6.7); it carries over to the next minute.
  if (month < 0 || day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 60) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 19xx.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  // Reject dates like 31 Feb that would silently roll over.
  if (date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hours, minutes, seconds);
  return date.getTime() / 1000;
}
