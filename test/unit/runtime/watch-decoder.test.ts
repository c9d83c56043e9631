import { describe, expect, it } from 'vitest';
import { WatchDecodeError, WatchDecoder } from '../../../src/runtime/watch-decoder.js';

const line = (type: string, name: string, rv: string): string =>
  `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: rv } } })}\n`;

describe('watch stream decoding', () => {
  it('decodes one event per line', () => {
    const events = new WatchDecoder().push(line('ADDED', 'a', '1') + line('MODIFIED', 'a', '2'));
    expect(events.map((e) => [e.type, e.object])).toEqual([
      ['ADDED', { metadata: { name: 'a', resourceVersion: '1' } }],
      ['MODIFIED', { metadata: { name: 'a', resourceVersion: '2' } }],
    ]);
  });

  it('keeps an event split across chunks until its line is complete', () => {
    const decoder = new WatchDecoder();
    const text = line('DELETED', 'a', '3');
    expect(decoder.push(text.slice(0, 10))).toEqual([]);
    expect(decoder.push(text.slice(10, -1))).toEqual([]);
    expect(decoder.push('\n').map((e) => e.type)).toEqual(['DELETED']);
  });

  it('decodes bookmarks and error statuses', () => {
    const error = JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } });
    const events = new WatchDecoder().push(`${line('BOOKMARK', '', '9')}${error}\n`);
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK', 'ERROR']);
    expect(events[1]?.object).toMatchObject({ code: 410 });
  });

  it('ignores blank lines', () => {
    expect(new WatchDecoder().push('\n\n')).toEqual([]);
  });

  it('rejects a line that is not a watch event', () => {
    expect(() => new WatchDecoder().push('{"type":"ADDED"\n')).toThrow(WatchDecodeError);
    expect(() => new WatchDecoder().push('{"type":"RENAMED","object":{}}\n')).toThrow(WatchDecodeError);
  });
});
