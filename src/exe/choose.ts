/** Which command the single executable runs (see main.ts). */
import { basename } from 'node:path';

/** The commands the executable holds, in the order of the README. */
export const COMMANDS = ['deflatehd', 'inflatehd', 'h2serve', 'h2get', 'h2bench', 'h2proxy'] as const;
export type CommandName = (typeof COMMANDS)[number];

export type Choice = { kind: 'command'; command: CommandName; args: string[] } | { kind: 'help' } | { kind: 'version' } | { kind: 'error'; message: string };

const isCommand = (name: string | undefined): name is CommandName => (COMMANDS as readonly string[]).includes(name ?? '');

/**
 * The command from the name the executable was started under (`argv0`: a link
 * named after a command), else from the first argument.
 */
export function chooseCommand(argv0: string, args: string[]): Choice {
  const name = basename(argv0).replace(/\.exe$/i, '');
  if (isCommand(name)) return { kind: 'command', command: name, args };
  const first = args[0];
  if (isCommand(first)) return { kind: 'command', command: first, args: args.slice(1) };
  if (first === '--help' || first === '-h' || first === 'help') return { kind: 'help' };
  if (first === '--version') return { kind: 'version' };
  if (first === undefined) return { kind: 'error', message: 'no command given' };
  return { kind: 'error', message: `unknown command '${first}'` };
}
