/**
 * Milliseconds on a monotonic clock, as `performance.now()` gives but without it: the first touch of the
 * `performance` global loads Node's perf_hooks modules (about 1 ms of every write).
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
