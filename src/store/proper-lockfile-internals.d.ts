// proper-lockfile's internal table of the locks this process holds (lib/lockfile.js exports it, untyped).
declare module 'proper-lockfile/lib/lockfile.js' {
  export interface HeldLock {
    lockfilePath: string;
    mtime: Date;
    lastUpdate: number;
    released?: boolean;
  }
  export function getLocks(): Record<string, HeldLock>;
}
