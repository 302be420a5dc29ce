import type { ClockFacts } from '../../core/clock.js';

/** What `doctor` takes and answers, apart from the use case, so its renderer and settings check need only these. */

export type DoctorCheckName = 'settings' | 'store' | 'state' | 'state lock' | 'event log' | 'clock' | 'hooks' | 'agent hooks';

export interface DoctorCheck {
  readonly check: DoctorCheckName;
  readonly ok: boolean;
  /** One line: what was found. */
  readonly detail: string;
  /** The exact shell command that fixes it; null when ok. */
  readonly fix: string | null;
}

export interface DoctorResult {
  readonly healthy: boolean;
  readonly checks: readonly DoctorCheck[];
  /** The clock against the registry's time (as `status` reports it); null when the state could not be read. */
  readonly clock: ClockFacts | null;
}

export interface DoctorOptions {
  /** Settings problems the CLI found before building the context (a HARN_* variable that does not parse). */
  readonly settings: readonly DoctorCheck[];
  /** How the printed fix commands start: `harn-agents` and the global options this call was given. */
  readonly cli: string;
  /** The PostgreSQL store, when that is the store: its URL without password and the namespace. */
  readonly postgres?: { readonly url: string; readonly namespace: string };
}
