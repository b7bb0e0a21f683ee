// PyTorch as a long-lived child (bench/torch_bench.py --serve), so its timing rounds can interleave with
// backprop's in the same run and a change in machine load hits both alike.

const SCRIPT = new URL("./torch_bench.py", import.meta.url).pathname;
const MISSING = "no python3 with torch (`bash bench/setup.sh` installs it: Debian python3-torch on libopenblas0-pthread)";

/** The environment PyTorch runs in: this machine's OpenBLAS overrides removed (see PLATFORM.md). */
function torchEnv(): Record<string, string> {
  const env = { ...Deno.env.toObject() };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** The first interpreter that imports torch, or undefined. */
async function findPython(env: Record<string, string>): Promise<string | undefined> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const probe = await new Deno.Command(python, { args: ["-c", "import torch"], env, clearEnv: true, stdout: "null", stderr: "null" }).output();
      if (probe.success) return python;
    } catch {
      // no such interpreter
    }
  }
  return undefined;
}

export class TorchPeer {
  /** PyTorch's version and the BLAS library it loaded, from the child's hello line. */
  readonly version: string;
  readonly blas: string;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #closed = false;
  /** On exit nothing async completes, so the child is killed outright. */
  #unload = () => {
    try {
      this.#child.kill();
    } catch {
      // already exited
    }
  };

  private constructor(child: Deno.ChildProcess, lines: AsyncIterator<string>, hello: { torch: string; blas: string }) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = lines;
    this.version = hello.torch;
    this.blas = hello.blas;
    globalThis.addEventListener("unload", this.#unload);
  }

  /** Starts the child, or says why PyTorch is unavailable. */
  static async start(): Promise<TorchPeer | string> {
    const env = torchEnv();
    const python = await findPython(env);
    if (!python) return MISSING;
    const child = new Deno.Command(python, { args: [SCRIPT, "--serve"], env, clearEnv: true, stdin: "piped", stdout: "piped", stderr: "inherit" }).spawn();
    const lines = readLines(child.stdout);
    const first = await lines.next();
    if (first.done) {
      await child.status;
      return `${python} ${SCRIPT} --serve exited before its hello line`;
    }
    const hello = JSON.parse(first.value);
    if (!hello.hello) {
      child.kill();
      return `${python} ${SCRIPT} --serve: expected a hello line, found ${first.value}`;
    }
    return new TorchPeer(child, lines, hello);
  }

  /**
   * Per-round milliseconds of `rounds` rounds of workload `key` at `threads` threads, after untimed runs for
   * `warmMs` (at least one run).
   */
  async time(key: string, threads: 1 | 2, rounds: number, warmMs = 0): Promise<number[]> {
    if (this.#closed) throw new Error(`TorchPeer.time(${key}): the PyTorch child is closed`);
    let line: IteratorResult<string>;
    try {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify({ op: "time", key, threads, rounds, warm_ms: warmMs }) + "\n"));
      line = await this.#lines.next();
    } catch {
      line = { done: true, value: undefined }; // stdin or stdout broke: the child is gone
    }
    if (line.done) {
      this.#closed = true;
      const status = await this.#child.status;
      throw new Error(`TorchPeer.time(${key}): the PyTorch child died (exit code ${status.code})`);
    }
    const reply = JSON.parse(line.value);
    if (reply.error) throw new Error(`TorchPeer.time(${key}): ${reply.error}`);
    return reply.ms as number[];
  }

  /**
   * Waits until the child stops using the CPU, at most `maxMs`, and returns the milliseconds waited. OpenBLAS's
   * worker threads spin for about 130 ms after a product before they sleep (measured on this kind of machine): a
   * round timed in that window runs on one core of two. Linux only (/proc/<pid>/task/<tid>/schedstat); elsewhere it
   * waits `maxMs / 4`.
   */
  async settle(maxMs = 1000, windowMs = 10): Promise<number> {
    const start = performance.now();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let before = await cpuNanoseconds(this.#child.pid);
    if (before === undefined) {
      await sleep(maxMs / 4);
      return performance.now() - start;
    }
    while (performance.now() - start < maxMs) {
      await sleep(windowMs);
      const after = await cpuNanoseconds(this.#child.pid);
      if (after === undefined) break;
      // Idle: under 5 % of one core over the window (the child's own reads and timers).
      if (after - before < windowMs * 1e6 * 0.05) break;
      before = after;
    }
    return performance.now() - start;
  }

  /** Asks the child to quit (kills it if it does not) and waits for it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    globalThis.removeEventListener("unload", this.#unload);
    try {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify({ op: "quit" }) + "\n"));
      await this.#writer.close();
    } catch {
      // the child already died; its stdin is gone
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill();
      } catch {
        // already exited
      }
    }, 2000);
    await this.#child.status;
    clearTimeout(timer);
  }
}

/** The CPU time of every thread of process `pid`, in nanoseconds, or undefined where /proc cannot tell. */
async function cpuNanoseconds(pid: number): Promise<number | undefined> {
  try {
    let total = 0;
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      try {
        total += Number((await Deno.readTextFile(`/proc/${pid}/task/${task.name}/schedstat`)).split(" ")[0]);
      } catch {
        // the thread exited between the listing and the read
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** The text lines of a byte stream. */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
    }
  }
  if (buffer) yield buffer;
}
