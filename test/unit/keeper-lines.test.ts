import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { LineReader } from '../../src/store/pg-keeper-client.js';

/** A socket as LineReader sees one: 'data' events of strings. */
function fakeSocket() {
  const socket = Object.assign(new EventEmitter(), { setEncoding: () => socket, destroy: () => socket.emit('close') });
  return socket;
}

// The session keeper's answers (status --json of a large namespace: tens of MB) and requests (an import)
// arrive in 64 KB chunks. A reader that searched its whole buffer again for each chunk took 40 s for a 40 MB
// line; one that searches each chunk once takes a fraction of a second. Counted, not timed: how many
// characters are searched for line ends.
describe("the keeper protocol's line reader", () => {
  it('searches each received character for a line end once, however long the line', async () => {
    const socket = fakeSocket();
    const lines = new LineReader(socket as unknown as net.Socket);
    const chunk = 'x'.repeat(64 * 1024);
    const chunks = 160; // 10 MB
    const indexOf = String.prototype.indexOf;
    let searched = 0;
    String.prototype.indexOf = function (this: string, search: string, from?: number) {
      if (search === '\n') searched += this.length - (from ?? 0);
      return indexOf.call(this, search, from);
    } as typeof String.prototype.indexOf;
    try {
      for (let i = 0; i < chunks; i++) socket.emit('data', chunk);
      socket.emit('data', 'end\nnext');
      socket.emit('data', ' line\n');
    } finally {
      String.prototype.indexOf = indexOf;
    }
    const total = chunks * chunk.length + 'end\nnext line\n'.length;
    expect(searched).toBeLessThanOrEqual(2 * total);
    const first = await lines.next();
    expect(first.length).toBe(chunks * chunk.length + 3);
    expect(first.endsWith('xend')).toBe(true);
    expect(await lines.next()).toBe('next line');
  });

  it('gives every line in order, split anywhere across chunks, then rejects once the connection is closed', async () => {
    const socket = fakeSocket();
    const lines = new LineReader(socket as unknown as net.Socket);
    const text = '{"a":1}\n{"b":"x\\ny"}\n\n{"c":3}\n';
    for (const piece of text.match(/.{1,3}/gs) ?? []) socket.emit('data', piece);
    expect([await lines.next(), await lines.next(), await lines.next(), await lines.next()]).toEqual(['{"a":1}', '{"b":"x\\ny"}', '', '{"c":3}']);
    socket.emit('close');
    await expect(lines.next()).rejects.toThrow('the connection was closed');
  });
});
