import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { usageError } from '../core/errors.js';
import type { HarnEvent } from '../core/events.js';
import type { RegistryConfig } from '../core/registry.js';
import { FileStore } from './file-store.js';
import { redactUrl } from './redact-url.js';
import type { Store, Transaction, TransactionMode } from './transaction.js';
import type { Workspace } from './workspace.js';

export interface StoreChoice {
  /** `file` (default) or a `postgres://` / `postgresql://` URL. */
  readonly store?: string;
  /** The workspace's name in a shared database (default: the git remote URL, else the directory's name). */
  readonly namespace?: string;
  readonly workspace: Workspace;
  readonly config: RegistryConfig;
  readonly clock: () => number;
  readonly stateLockWaitMs?: number;
  readonly trace?: (line: string) => void;
}

const isPostgres = (store: string): boolean => /^postgres(ql)?:\/\//i.test(store);

/** The store a workspace uses: the state file, or PostgreSQL (whose client is loaded only then). */
export function openStore(choice: StoreChoice): Store {
  const store = choice.store ?? 'file';
  if (store === 'file' || store === '') return new FileStore(choice);
  if (!isPostgres(store)) throw usageError(`--store: '${store}' is not a store (use file or a postgres:// URL)`);
  return new LazyPgStore(store, choice.namespace || defaultNamespace(choice.workspace.root), choice.config);
}

/** The git remote URL of the workspace, else its directory's name. */
export function defaultNamespace(root: string): string {
  const remote = spawnSync('git', ['config', '--get', 'remote.origin.url'], { cwd: root, encoding: 'utf8' });
  const url = remote.status === 0 ? remote.stdout.trim() : '';
  return url || path.basename(root);
}

/** Loads the PostgreSQL store (and the pg client) on first use. */
class LazyPgStore implements Store {
  readonly location: string;
  private inner: Promise<Store> | undefined;

  constructor(
    private readonly url: string,
    private readonly namespace: string,
    private readonly config: RegistryConfig,
  ) {
    this.location = `${redactUrl(url)} (namespace ${namespace})`;
  }

  private load(): Promise<Store> {
    this.inner ??= import('./pg-store.js').then(({ PgStore }) => new PgStore({ url: this.url, namespace: this.namespace, config: this.config }));
    return this.inner;
  }

  async transact<R>(mode: TransactionMode, fn: (tx: Transaction) => R): Promise<R> {
    return (await this.load()).transact(mode, fn);
  }

  async readEvents(): Promise<{ events: HarnEvent[]; skipped: number }> {
    return (await this.load()).readEvents();
  }
}
