import { InvalidBundleError } from './errors.js';

/**
 * Quoting of values for the four environment scripts of the credentials bundle. Each function
 * returns the value's escaped form for use *inside* that shell's quotes, so that a placeholder can be
 * replaced later by an escaped directory without re-rendering the script.
 */

export type ScriptShell = 'posix' | 'fish' | 'powershell' | 'cmd';

export function escapeForShell(shell: ScriptShell, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new InvalidBundleError(`a line break or NUL cannot be written into a ${shell} script`);
  switch (shell) {
    case 'posix':
      // Inside '...' nothing is special but the quote itself: close, emit \', reopen.
      return value.replace(/'/g, `'\\''`);
    case 'fish':
      // fish single quotes: only \\ and \' are escapes.
      return value.replace(/[\\']/g, '\\$&');
    case 'powershell':
      // PowerShell single quotes (including the typographic ones it also accepts) are doubled.
      return value.replace(/['\u2018\u2019\u201a\u201b]/g, '$&$&');
    case 'cmd':
      // `set "NAME=value"`: quotes cannot be escaped (and never occur in Windows paths); % is doubled in batch files.
      if (value.includes('"')) throw new InvalidBundleError('a double quote cannot be written into a cmd script');
      return value.replace(/%/g, '%%');
  }
}
