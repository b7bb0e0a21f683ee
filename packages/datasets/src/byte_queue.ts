/**
 * Exact-length reads over a stream of arbitrarily sized chunks — what a block-structured format (tar) needs
 * on top of a `ReadableStream<Uint8Array>` (from `fetch`, a file, or `DecompressionStream`).
 */
export class ByteQueue {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  /** Bytes handed out (read or skipped) so far: the stream offset of the next byte. */
  offset = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#ended = true;
      return false;
    }
    if (value.length > 0) {
      this.#chunks.push(value);
      this.#buffered += value.length;
    }
    return true;
  }

  /** Takes up to `n` buffered bytes off the front, as a view when they sit in one chunk. */
  #take(n: number): Uint8Array {
    n = Math.min(n, this.#buffered);
    const first = this.#chunks[0];
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.#chunks[0];
        const count = Math.min(chunk.length, n - filled);
        out.set(chunk.subarray(0, count), filled);
        filled += count;
        if (count === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(count);
      }
    }
    this.#buffered -= n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, or fewer when the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    while (this.#buffered < n && await this.#fill());
    if (this.#buffered === 0) return new Uint8Array(0);
    return this.#take(n);
  }

  /** Up to `n` bytes as a sequence of chunks (views where possible); ends early when the stream does. */
  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    while (n > 0) {
      if (this.#buffered === 0 && !await this.#fill()) return;
      if (this.#buffered === 0) continue;
      const chunk = this.#take(Math.min(n, this.#chunks[0].length));
      n -= chunk.length;
      yield chunk;
    }
  }

  /** Drops up to `n` bytes; returns how many were dropped (fewer only when the stream ended). */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const chunk of this.chunks(n)) skipped += chunk.length;
    return skipped;
  }

  /** Stops reading and releases the underlying stream. */
  async cancel(): Promise<void> {
    this.#chunks = [];
    this.#buffered = 0;
    if (!this.#ended) {
      this.#ended = true;
      await this.#reader.cancel().catch(() => {});
    }
    this.#reader.releaseLock();
  }
}
