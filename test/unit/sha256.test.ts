import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/sha256.js';

// The PostgreSQL store's advisory keys and the native function's name are SHA-256 digests that every client
// version must compute alike (two clients with different keys would not exclude each other).
describe('sha256', () => {
  const sha256Hex = (text: string) => sha256(text).toString('hex');
  const reference = (text: string) => createHash('sha256').update(text).digest('hex');

  it('gives the FIPS 180-4 digests of the standard vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it("agrees with node:crypto at every length around the block boundaries, and on non-ASCII text", () => {
    for (let n = 0; n <= 200; n++) {
      const text = randomBytes(n).toString('latin1');
      expect(sha256Hex(text), `length ${n}`).toBe(reference(text));
    }
    for (const text of ['harn-agents namespace\0github.com/acme/app', 'ns\0src/é/日本.ts', '\u{1F600}'.repeat(40), 'x'.repeat(100_000)]) {
      expect(sha256(text).equals(createHash('sha256').update(text).digest())).toBe(true);
    }
  });
});
