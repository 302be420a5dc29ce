/**
 * A map read from a state file (an agent's lock map): a `Map<string, V>` that answers `get`, `has` and
 * `size` from the parsed (and already validated) JSON object it came from, and builds its own entries only
 * when it is iterated or changed. It implements the interface rather than extending Map, so making one
 * allocates no hash table. A quiet call on a large registry (`holder`, `check`) asks a few paths of every
 * agent; building 10,000 maps of 100,000 entries for that cost more than the lookups (docs/performance.md).
 *
 * It behaves as a Map in every respect but `instanceof Map`: the entries, their order (the object's own key
 * order, as `for...in` gives it) and every method's answer are those of a Map filled from the object up front
 * (test/unit/lock-map.property.test.ts). The source object is never changed; a change builds the map first.
 */
export class SourcedMap<V> implements Map<string, V> {
  /** The parsed object, until the entries are built from it. */
  private source: Readonly<Record<string, V>> | null;
  /** The entries, once built (not before: a registry of 10,000 agents would make 10,000 hash tables). */
  private built: Map<string, V> | null = null;
  private mutated = false;

  constructor(source: Readonly<Record<string, V>>) {
    this.source = source;
  }

  /** Whether nothing was set, deleted or cleared since it was made: its entries are still its source's. */
  get unchanged(): boolean {
    return !this.mutated;
  }

  /** `forEachLock`: its entries in order, as they are now, without building the map. */
  forEachEntry(visit: (key: string, value: V) => void): void {
    const source = this.source;
    if (source === null) {
      for (const [key, value] of [...this.entriesMap()]) visit(key, value);
      return;
    }
    for (const key in source) visit(key, source[key] as V);
  }

  /** The entries as a Map, built from the source on first use. */
  private entriesMap(): Map<string, V> {
    let built = this.built;
    if (built === null) {
      built = new Map();
      const source = this.source as Readonly<Record<string, V>>;
      for (const key in source) built.set(key, source[key] as V);
      this.built = built;
      this.source = null;
    }
    return built;
  }

  /**
   * Whether the unbuilt source has `key`. Only a string can be: Object.hasOwn would turn 5 into "5" and
   * undefined into "undefined", which a Map of strings does not have.
   */
  private sourceHas(source: Readonly<Record<string, V>>, key: string): boolean {
    return typeof key === 'string' && Object.hasOwn(source, key);
  }

  get(key: string): V | undefined {
    const source = this.source;
    if (source === null) return this.entriesMap().get(key);
    return this.sourceHas(source, key) ? source[key] : undefined;
  }

  has(key: string): boolean {
    const source = this.source;
    return source === null ? this.entriesMap().has(key) : this.sourceHas(source, key);
  }

  set(key: string, value: V): this {
    this.entriesMap().set(key, value);
    this.mutated = true;
    return this;
  }

  delete(key: string): boolean {
    if (this.source !== null && !this.sourceHas(this.source, key)) return false;
    this.mutated = true;
    return this.entriesMap().delete(key);
  }

  clear(): void {
    // The built map itself is cleared, not replaced: an iterator taken before goes on with what is set after,
    // as a Map's does.
    if (this.built === null) this.built = new Map();
    else this.built.clear();
    this.source = null;
    this.mutated = true;
  }

  get size(): number {
    const source = this.source;
    if (source === null) return this.entriesMap().size;
    return Object.keys(source).length;
  }

  forEach(callback: (value: V, key: string, map: Map<string, V>) => void, thisArg?: unknown): void {
    this.entriesMap().forEach((value, key) => callback.call(thisArg, value, key, this));
  }

  entries(): ReturnType<Map<string, V>['entries']> {
    return this.entriesMap().entries();
  }

  keys(): ReturnType<Map<string, V>['keys']> {
    return this.entriesMap().keys();
  }

  values(): ReturnType<Map<string, V>['values']> {
    return this.entriesMap().values();
  }

  [Symbol.iterator](): ReturnType<Map<string, V>['entries']> {
    return this.entriesMap().entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Map';
  }
}

/** An agent's lock map (path -> expiry) read from a state file. */
export class SourcedLockMap extends SourcedMap<number> {
  /**
   * Set by the reader when the file it came from has no `*`, `?` and only one `[` (the agents array): then
   * none of its keys is a pattern, and while it is unchanged no lookup needs to look at its keys for one.
   */
  noPatterns = false;
}

const NOTHING: Readonly<Record<string, never>> = Object.freeze({});

/** An empty map that allocates its table only when something is put in it (a decoded agent's lock reasons). */
export const lazyEmptyMap = <V>(): Map<string, V> => new SourcedMap<V>(NOTHING);

/**
 * Call `visit` with each of a lock map's entries, in order, without building a `SourcedLockMap` (nor a pair
 * per entry). It walks the entries as they were when it started: a change `visit` makes is not seen.
 */
export function forEachLock(locks: ReadonlyMap<string, number>, visit: (path: string, expiry: number) => void): void {
  if (locks instanceof SourcedLockMap) locks.forEachEntry(visit);
  else for (const [path, expiry] of [...locks]) visit(path, expiry);
}
