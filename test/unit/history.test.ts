import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/registry.js';
import { DEFAULT_RETENTION_MS, settingDefinition } from '../../src/core/settings.js';
import { applyTransaction } from '../../src/store/transaction.js';

const DAY = 86_400_000;

/** A state with one crashed agent last seen 30 days before `now`, one active agent, and `settings` in `harn`. */
const now = 400 * DAY;
const state = (settings = '') =>
  `{"next_id":3,"agents":[{"id":1,"name":"old","state":"crashed","last_seen_ms":${now - 30 * DAY},"edit_count":0,"locked_paths":{}},` +
  `{"id":2,"name":"live","state":"active","last_seen_ms":${now},"edit_count":0,"locked_paths":{}}]` +
  (settings ? `,"harn":{"settings":{${settings}}}` : '') +
  '}\n';
const ids = (applied: ReturnType<typeof applyTransaction>) => [...applied.registry.agents()].map((a) => a.id);

describe('every write drops old history under the workspace retention setting; a quiet read does not write', () => {
  it('a write removes it, with the default retention of 7 days; next_id stays', () => {
    const applied = applyTransaction(state(), DEFAULT_CONFIG, now, 'test', (tx) => tx.registry.heartbeat(2, tx.nowMs));
    expect(applied.registry.changed).toBe(true);
    expect(ids(applied)).toEqual([2]);
    expect(applied.registry.nextId).toBe(3);
    expect(DEFAULT_RETENTION_MS).toBe(7 * DAY);
  });

  it('a read leaves the state unchanged (nothing to write)', () => {
    const applied = applyTransaction(state(), DEFAULT_CONFIG, now, 'test', (tx) => tx.registry.holderOf('a.ts', tx.nowMs));
    expect(applied.registry.changed).toBe(false);
    expect(ids(applied)).toEqual([1, 2]);
  });

  it('retention 0 ("never") keeps history for ever, as the seed does', () => {
    const applied = applyTransaction(state('"retention_ms":0'), DEFAULT_CONFIG, now, 'test', (tx) => tx.registry.heartbeat(2, tx.nowMs));
    expect(ids(applied)).toEqual([1, 2]);
  });

  it('a longer retention keeps it; a shorter one removes it', () => {
    const longer = applyTransaction(state(`"retention_ms":${31 * DAY}`), DEFAULT_CONFIG, now, 'test', (tx) => tx.registry.heartbeat(2, tx.nowMs));
    expect(ids(longer)).toEqual([1, 2]);
    const shorter = applyTransaction(state(`"retention_ms":${29 * DAY}`), DEFAULT_CONFIG, now, 'test', (tx) => tx.registry.heartbeat(2, tx.nowMs));
    expect(ids(shorter)).toEqual([2]);
  });

  it('the setting allows 0 and shows it as "never"', () => {
    const definition = settingDefinition('retention');
    expect(definition.zeroAllowed).toBe(true);
    expect(definition.zeroMeans).toBe('never');
    expect(definition.defaultMs).toBe(7 * DAY);
  });
});
