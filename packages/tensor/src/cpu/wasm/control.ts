// Layout of the shared Int32Array through which the calling thread hands jobs to workers. Each worker owns
// one slot; slots are 128 bytes apart so two workers never write the same cache line.

export const SLOT_INTS = 32;
/** Bumped by the caller to post a job; the worker sleeps on it. */
export const SEQ = 0;
/** Set by the worker to the SEQ it finished; the caller sleeps on it. */
export const DONE = 1;
/** 1 once the worker has instantiated the kernels. */
export const READY = 2;
/** Index into kernelNames of the export to call. */
export const FN = 3;
/** 0: plain-SIMD module, 1: relaxed-SIMD module. */
export const VARIANT = 4;
export const ARGC = 5;
/** 0 ok, 1 the last job threw (the worker logs the error). */
export const STATUS = 6;
/** Non-zero: the worker leaves its loop at the next SEQ bump. */
export const QUIT = 7;
export const ARGS = 8;
export const MAX_ARGS = SLOT_INTS - ARGS;

/** Atomics.load polls before sleeping: a follow-up job often arrives within microseconds. */
export const SPIN = 1 << 14;
