/** How the single executable picks its command: the name it was started under, else its first argument. */
import { describe, expect, it } from 'vitest';
import { COMMANDS, chooseCommand } from '../../src/exe/choose.js';

describe('chooseCommand', () => {
  it('a link named after a command runs it with every argument, whatever the folder', () => {
    for (const c of COMMANDS) {
      expect(chooseCommand(`/usr/local/bin/${c}`, ['-a', 'b'])).toEqual({ kind: 'command', command: c, args: ['-a', 'b'] });
      expect(chooseCommand(c, [])).toEqual({ kind: 'command', command: c, args: [] });
    }
    // The name wins: the first argument is the command's own, even when it names another command.
    expect(chooseCommand('./deflatehd', ['inflatehd'])).toEqual({ kind: 'command', command: 'deflatehd', args: ['inflatehd'] });
    expect(chooseCommand('/opt/bin/h2get.exe', ['-v'])).toEqual({ kind: 'command', command: 'h2get', args: ['-v'] });
  });

  it('under any other name, the first argument is the command', () => {
    expect(chooseCommand('/opt/h2kit', ['h2serve', '-d', '.', '8080'])).toEqual({ kind: 'command', command: 'h2serve', args: ['-d', '.', '8080'] });
    expect(chooseCommand('h2kit-linux-x64', ['inflatehd', '--help'])).toEqual({ kind: 'command', command: 'inflatehd', args: ['--help'] });
  });

  it('help, version, and a clear error for no command or an unknown one', () => {
    expect(chooseCommand('h2kit', ['--help'])).toEqual({ kind: 'help' });
    expect(chooseCommand('h2kit', ['-h'])).toEqual({ kind: 'help' });
    expect(chooseCommand('h2kit', ['--version'])).toEqual({ kind: 'version' });
    expect(chooseCommand('h2kit', [])).toEqual({ kind: 'error', message: 'no command given' });
    expect(chooseCommand('h2kit', ['deflate'])).toEqual({ kind: 'error', message: "unknown command 'deflate'" });
    expect(chooseCommand('h2kit', ['--verbose', 'h2get'])).toEqual({ kind: 'error', message: "unknown command '--verbose'" });
  });
});
