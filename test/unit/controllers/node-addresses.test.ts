import { describe, expect, it } from 'vitest';

import { NodeAddressBook } from '../../../src/controllers/bay/node-addresses.js';

const RANGE = '10.0.50.128/29'; // .129 to .134 usable
const ask = (node: string, taken: string[] = [], current?: string) => ({
  node,
  range: RANGE,
  reserved: ['10.0.50.1', '10.0.50.0', '10.0.50.255'],
  taken,
  ...(current ? { current } : {}),
});

describe('node addresses on the hosts’ network', () => {
  it('a node keeps the address its instance has', () => {
    expect(new NodeAddressBook().addressFor(ask('a', ['10.0.50.129'], '10.0.50.133'))).toBe('10.0.50.133');
  });

  it('a new node gets the lowest address nobody uses, never the range’s network address', () => {
    expect(new NodeAddressBook().addressFor(ask('a', ['10.0.50.129', '10.0.50.131']))).toBe('10.0.50.130');
  });

  it('two nodes planned at the same moment never share an address, and asking again gives the same one', () => {
    const book = new NodeAddressBook();
    const first = book.addressFor(ask('a'));
    const second = book.addressFor(ask('b'));
    expect(first).toBe('10.0.50.129');
    expect(second).toBe('10.0.50.130');
    expect(book.addressFor(ask('a'))).toBe(first);
  });

  it('a grant is freed once its node exists (the host reports the address from then on)', () => {
    const book = new NodeAddressBook();
    book.addressFor(ask('a'));
    book.settle('a');
    expect(book.addressFor(ask('b'))).toBe('10.0.50.129');
  });

  it('a grant not seen on a host for ten minutes is given up', () => {
    const book = new NodeAddressBook();
    book.addressFor(ask('a'), 0);
    expect(book.addressFor(ask('b'), 10 * 60_000 + 1)).toBe('10.0.50.129');
  });

  it('an address outside the range is not kept (the aggregate moved its range): a new one is given', () => {
    expect(new NodeAddressBook().addressFor(ask('a', [], '10.0.49.7'))).toBe('10.0.50.129');
  });

  it('an address a node used lately goes to no new node while others are free: its peers still know the old', () => {
    const book = new NodeAddressBook();
    // A node had .129 and was deleted: the next request no longer sees it taken.
    book.addressFor(ask('x', ['10.0.50.129', '10.0.50.130'], '10.0.50.130'), 0);
    expect(book.addressFor(ask('b', ['10.0.50.130']), 60_000)).toBe('10.0.50.131');
    expect(new NodeAddressBook().addressFor(ask('b', ['10.0.50.130']), 60_000)).toBe('10.0.50.129');
    expect(book.addressFor(ask('c', ['10.0.50.130', '10.0.50.131']), 10 * 60_000 + 1)).toBe('10.0.50.129');
  });

  it('when only addresses used lately are free, one of them is given all the same', () => {
    const book = new NodeAddressBook();
    const others = ['130', '131', '132', '133', '134'].map((o) => `10.0.50.${o}`);
    book.addressFor(ask('x', [...others, '10.0.50.129'], '10.0.50.130'), 0);
    expect(book.addressFor(ask('b', others), 1_000)).toBe('10.0.50.129');
  });

  it('says so when the range is full', () => {
    const all = ['129', '130', '131', '132', '133', '134'].map((o) => `10.0.50.${o}`);
    expect(new NodeAddressBook().addressFor(ask('a', all))).toBeUndefined();
  });
});
