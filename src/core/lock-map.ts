/**
 * An agent's lock map read from a state file: a `Map<path, expiry>` that answers `get` and `has` from the
 * parsed (and already validated) JSON object it came from, and builds its own entries only when it is
 * iterated, sized or changed. A quiet call on a large registry (`holder`, `check`) asks a few paths of every
 * agent; building 10,000 maps of 100,000 entries for that cost more than the lookups (docs/performance.md).
 *
 * It behaves as a Map in every respect: the entries, their order (the object's own key order, as `for...in`
 * gives it) and every method's answer are the same as those of a Map filled from the object up front
 * (test/unit/lock-map.property.test.ts). The source object is never changed; a change builds the map first.
 */
export class SourcedLockMap extends Map<string, number> {
  /** The parsed object, until the entries are built from it. */
  private pending: Readonly<Record<string, number>> | null;
  private mutated = false;

  constructor(source: Readonly<Record<string, number>>) {
    super();
    this.pending = source;
  }

  /** Whether nothing was set, deleted or cleared since it was made: its entries are still its source's. */
  get unchanged(): boolean {
    return !this.mutated;
  }

  /** `forEachLock`: its entries in order, as they are now, without building the map. */
  forEachEntry(visit: (path: string, expiry: number) => void): void {
    const source = this.pending;
    if (source === null) {
      for (const [path, expiry] of [...super.entries()]) visit(path, expiry);
      return;
    }
    for (const path in source) visit(path, source[path] as number);
  }

  private build(): void {
    const source = this.pending;
    if (source === null) return;
    this.pending = null;
    for (const path in source) super.set(path, source[path] as number);
  }

  override get(path: string): number | undefined {
    const source = this.pending;
    if (source === null) return super.get(path);
    return Object.hasOwn(source, path) ? source[path] : undefined;
  }

  override has(path: string): boolean {
    const source = this.pending;
    return source === null ? super.has(path) : Object.hasOwn(source, path);
  }

  override set(path: string, expiry: number): this {
    this.build();
    this.mutated = true;
    return super.set(path, expiry);
  }

  override delete(path: string): boolean {
    this.build();
    this.mutated = true;
    return super.delete(path);
  }

  override clear(): void {
    this.pending = null;
    this.mutated = true;
    super.clear();
  }

  override get size(): number {
    this.build();
    return super.size;
  }

  override forEach(callback: (expiry: number, path: string, map: Map<string, number>) => void, thisArg?: unknown): void {
    this.build();
    super.forEach(callback, thisArg);
  }

  override entries(): ReturnType<Map<string, number>['entries']> {
    this.build();
    return super.entries();
  }

  override keys(): ReturnType<Map<string, number>['keys']> {
    this.build();
    return super.keys();
  }

  override values(): ReturnType<Map<string, number>['values']> {
    this.build();
    return super.values();
  }

  override [Symbol.iterator](): ReturnType<Map<string, number>['entries']> {
    this.build();
    return super[Symbol.iterator]();
  }
}

/**
 * Call `visit` with each of a lock map's entries, in order, without building a `SourcedLockMap` (nor a pair
 * per entry). It walks the entries as they were when it started: a change `visit` makes is not seen.
 */
export function forEachLock(locks: ReadonlyMap<string, number>, visit: (path: string, expiry: number) => void): void {
  if (locks instanceof SourcedLockMap) locks.forEachEntry(visit);
  else for (const [path, expiry] of [...locks]) visit(path, expiry);
}
