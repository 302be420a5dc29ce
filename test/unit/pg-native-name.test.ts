import { describe, expect, it } from 'vitest';
import { textHash64 } from '../../src/core/sha256.js';
import { NATIVE_BODY_HASH, NATIVE_FUNCTION, nativeBodyForTest } from '../../src/store/pg-native.js';

// The native function's name carries a hash of its body, so clients of different versions never run each
// other's; it is written out in the source (computing it cost every CLI call 1.5 ms). A change to the body
// without a new name would let an older client's function pass for this one's.
describe("the native function's name", () => {
  it('carries the hash of the body it is installed with', () => {
    const hash = textHash64(nativeBodyForTest()).slice(0, 12);
    expect(NATIVE_BODY_HASH, `the body of src/store/pg-native.ts changed: set NATIVE_BODY_HASH to '${hash}'`).toBe(hash);
    expect(NATIVE_FUNCTION).toBe(`harn_op_${hash}`);
  });

  it('changes with any change to the body', () => {
    const body = nativeBodyForTest();
    expect(textHash64(body.replace('RETURN', 'RETURN ')).slice(0, 12)).not.toBe(NATIVE_BODY_HASH);
  });
});
