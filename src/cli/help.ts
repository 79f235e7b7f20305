/**
 * The one style of every command's --help (commander's Help, configured):
 *
 * - What follows a description in parentheses is written here, once, from
 *   the option itself: `(choices: a, b; default: x)`. A description never
 *   states its default. Give it to the option: `.default(value)`, or
 *   `.default(value, 'words')` when the value does not read well (32M, the
 *   current directory), or `.default(undefined, 'words')` for a default
 *   applied later (by the engine). Flags and repeatable options (an empty
 *   list) show none.
 * - Terms sit in a column at most TERM_COLUMN wide; a longer term stands on
 *   its own line with its description under it, so that descriptions keep
 *   40 columns or more and wrap.
 * - 80 columns unless the output is a terminal (then its width).
 */
import { type Argument, type Command, Help, type HelpConfiguration, type Option } from 'commander';

export const TERM_COLUMN = 32;

/** `(choices: ...; default: ...)`, or '' when there is nothing to say. */
function extra(choices: readonly string[] | undefined, value: unknown, words: string | undefined): string {
  const parts: string[] = [];
  if (choices) parts.push(`choices: ${choices.join(', ')}`);
  const shown = words ?? (value === undefined || typeof value === 'boolean' || (Array.isArray(value) && value.length === 0) ? undefined : String(value));
  if (shown) parts.push(`default: ${shown}`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

export const HELP_STYLE: HelpConfiguration = {
  optionDescription(o: Option): string {
    // A flag's default (false, or true for --no-x) says nothing to a user.
    if (!o.required && !o.optional) return o.description;
    return o.description + extra(o.argChoices, o.defaultValue, o.defaultValueDescription);
  },
  argumentDescription(a: Argument): string {
    return a.description + extra(a.argChoices, a.defaultValue, a.defaultValueDescription);
  },
  padWidth(this: Help, cmd: Command, helper: Help): number {
    return Math.min(TERM_COLUMN, Help.prototype.padWidth.call(this, cmd, helper));
  },
  formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
    if (!description || helper.displayWidth(term) <= termWidth) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
    const indent = ' '.repeat(2 + termWidth + 2);
    const wrapped = helper.boxWrap(description, (this.helpWidth ?? 80) - indent.length);
    return `  ${term}\n${indent}${wrapped.replace(/\n/g, `\n${indent}`)}`;
  },
};
