import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { usageError } from '../core/errors.js';
import { MAX_NAMESPACE_BYTES } from '../core/validate.js';
import type { HarnEvent } from '../core/events.js';
import { FileStore } from './file-store.js';
import { namespaceFromRemote } from './namespace.js';
import { redactUrl } from './redact-url.js';
import type { Store, StoreOptions, Transaction, TransactionMode, TransactionScope } from './transaction.js';
import type { Workspace } from './workspace.js';

export interface StoreChoice extends StoreOptions {
  /** `file` (default) or a `postgres://` / `postgresql://` URL. */
  readonly store?: string;
  /** The workspace's name in a shared database (default: the git remote URL, else the directory's name). */
  readonly namespace?: string;
  readonly workspace: Workspace;
}

const isPostgres = (store: string): boolean => /^postgres(ql)?:\/\//i.test(store);

/** Refuse what is not a store (`what`: where it was given), with a URL's password hidden. */
export function checkStore(store: string, what: string): void {
  if (store === 'file' || store === '' || isPostgres(store)) return;
  throw usageError(`${what}: '${redactUrl(store)}' is not a store (use file or a postgres:// URL)`);
}

/** The store a workspace uses: the state file, or PostgreSQL (whose client is loaded only then). */
export function openStore(choice: StoreChoice): Store {
  const store = choice.store ?? 'file';
  if (store === 'file' || store === '') return new FileStore(choice);
  checkStore(store, '--store');
  const namespace = choice.namespace ? { namespace: choice.namespace } : defaultNamespace(choice.workspace.root);
  // Namespaces key every table's index beside the path: bounded so any path under its limit fits.
  if (Buffer.byteLength(namespace.namespace) > MAX_NAMESPACE_BYTES) {
    throw usageError(`the namespace '${namespace.namespace.slice(0, 60)}...' is longer than the ${MAX_NAMESPACE_BYTES} bytes a namespace may be; choose a shorter one with --namespace`);
  }
  return new LazyPgStore(store, namespace, choice);
}

/**
 * The git remote's host and path (src/store/namespace.ts), else the directory's name. `legacy` is the raw
 * remote URL, the key earlier versions used: the store moves that registry to the new key on first use.
 */
export function defaultNamespace(root: string): { namespace: string; legacy?: string } {
  const remote = spawnSync('git', ['config', '--get', 'remote.origin.url'], { cwd: root, encoding: 'utf8' });
  const url = remote.status === 0 ? remote.stdout.trim() : '';
  const namespace = url ? namespaceFromRemote(url, root) : '';
  if (!namespace) return { namespace: path.basename(root) };
  return namespace === url ? { namespace } : { namespace, legacy: url };
}

/** Loads the PostgreSQL store (and the pg client) on first use. */
class LazyPgStore implements Store {
  private inner: Promise<Store> | undefined;
  private shown: string | undefined;

  constructor(
    private readonly url: string,
    private readonly namespace: { namespace: string; legacy?: string },
    private readonly options: StoreOptions,
  ) {
  }

  /** Where the registry is, for messages (worked out when one needs it: hiding a password is not free). */
  get location(): string {
    this.shown ??= `${redactUrl(this.url)} (namespace ${this.namespace.namespace})`;
    return this.shown;
  }

  private load(): Promise<Store> {
    this.inner ??= import('./pg-store.js').then(
      ({ PgStore }) =>
        new PgStore({
          url: this.url,
          namespace: this.namespace.namespace,
          legacyNamespace: this.namespace.legacy,
          config: this.options.config,
          stateLockWaitMs: this.options.stateLockWaitMs,
          trace: this.options.trace,
          warn: this.options.warn,
          keeper: this.options.sessionKeeper,
        }),
    );
    return this.inner;
  }

  async transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R, scope?: TransactionScope): Promise<R> {
    return (await this.load()).transact(mode, fn, scope);
  }

  async readEvents(): Promise<{ events: HarnEvent[]; skipped: number }> {
    return (await this.load()).readEvents();
  }

  /** Doctor: the privileges a writer needs that the role lacks (see PgStore). */
  async missingPrivileges(): Promise<{ role: string; missing: string[] }> {
    const store = (await this.load()) as Store & { missingPrivileges(): Promise<{ role: string; missing: string[] }> };
    return store.missingPrivileges();
  }

  /** Closes the pool if the store was used; one never loaded has nothing open. */
  async close(): Promise<void> {
    if (this.inner) await (await this.inner).close();
  }
}
