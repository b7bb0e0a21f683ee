// Layout of the shared Int32Array through which the calling thread hands a job to the workers. A job is a
// list of chunks (argument lists for one kernel export); every thread, the caller included, claims chunks
// until none are left. A worker that is slow to wake (the machine is busy) then costs nothing: the others
// take its share, and the caller never waits for a thread that has not started.

/** Bumped by the caller to post a job; idle workers sleep on it. */
export const JOB_SEQ = 0;
/** (generation << 16) | next unclaimed chunk. A claim is a compare-and-swap that checks the generation,
 * so a worker that wakes late for an old job can never take a chunk of a newer one. */
export const NEXT = 1;
/** Chunks finished; the caller sleeps on it until it equals CHUNKS. */
export const COMPLETED = 2;
export const CHUNKS = 3;
/** Index into kernelNames of the export every chunk calls. */
export const FN = 4;
/** 0: plain-SIMD module, 1: relaxed-SIMD module. */
export const VARIANT = 5;
/** Arguments per chunk. */
export const ARGC = 6;
/** Set when a chunk threw (the worker logs the error). */
export const ERROR = 7;
/** Non-zero: workers leave their loop at the next JOB_SEQ bump. */
export const QUIT = 8;
/** Workers that have instantiated the kernels. */
export const READY = 9;
/** Index of the argument each thread replaces with the address of its own scratch, or −1. */
export const SCRATCH_ARG = 10;
/** Id of the job's fused expression module (see WorkerPool.runModule), or −1 for the kernel modules. */
export const MODULE = 11;
/** Byte length of that module in the pool's shared module buffer. */
export const MODULE_BYTES = 12;
/** Arguments from this index on are float32 bit patterns (a fused kernel's scalar parameters). */
export const FLOAT_FROM = 13;
/** Chunk i's arguments start at TABLE + i * ARGC. Padded so the table starts on its own cache line. */
export const TABLE = 32;
export const MAX_CHUNKS = 64;
/** Arguments per chunk: a fused kernel takes three per input, one per output, four counts and its parameters
 * (Adam and AdamW: about 30). */
export const MAX_ARGS = 64;
export const CONTROL_INTS = TABLE + MAX_CHUNKS * MAX_ARGS;
/** Generations wrap at 15 bits so (generation << 16) stays a positive int32. */
export const GENERATION_MASK = 0x7fff;
/**
 * NEXT while the caller writes a new job: a generation no job has, so no claim can succeed. Without it a
 * worker finishing the previous job could read the old NEXT with the new CHUNKS and claim a chunk that
 * does not exist yet; closing NEXT first makes that claim's compare-and-swap fail.
 */
export const NEXT_CLOSED = (GENERATION_MASK + 1) << 16;

/** Atomics.load polls before sleeping: in a training loop the next job often comes within microseconds. */
export const SPIN = 1 << 14;

/** Size of the shared buffer that carries a fused module's bytes to the workers (expression modules are a few KiB). */
export const MODULE_BUFFER_BYTES = 1 << 16;
