/**
 * Byte streams over files and through gunzip, as web `ReadableStream`s so the same code runs under Deno and
 * Node. Failures surface as {@link DatasetError}s naming the file.
 */
import { open } from "node:fs/promises";
import { DatasetError, errorText } from "./errors.ts";

const CHUNK_BYTES = 1 << 20;

/** Opens `path` for reading as a stream of chunks. Throws a DatasetError if it cannot be opened. */
export async function openFileStream(path: string): Promise<ReadableStream<Uint8Array>> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (cause) {
    throw new DatasetError(`${path}: cannot open (${errorText(cause)})`, {
      file: path,
      expected: "a readable file",
      found: errorText(cause),
      cause,
    });
  }
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await handle.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const buffer = new Uint8Array(CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) {
          await close();
          controller.close();
        } else {
          controller.enqueue(buffer.subarray(0, bytesRead));
        }
      } catch (cause) {
        await close().catch(() => {});
        controller.error(
          new DatasetError(`${path}: read failed (${errorText(cause)})`, { file: path, cause }),
        );
      }
    },
    async cancel() {
      await close();
    },
  }, { highWaterMark: 0 });
}

/** Whether `bytes` start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzips `stream`. A corrupt or truncated gzip stream errors with a DatasetError naming `source`;
 * DatasetErrors from upstream pass through unchanged.
 */
export function gunzip(stream: ReadableStream<Uint8Array>, source: string): ReadableStream<Uint8Array> {
  const reader = stream.pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  ).getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (cause) {
        controller.error(
          cause instanceof DatasetError ? cause : new DatasetError(
            `${source}: the gzip data is corrupt or truncated (${errorText(cause)})`,
            { file: source, expected: "a complete, valid gzip stream", found: errorText(cause), cause },
          ),
        );
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

/**
 * The uncompressed tar bytes of the archive at `path`, gunzipping when the file starts with the gzip magic
 * number (so both `.tar.gz` and plain `.tar` work).
 */
export async function openTarStream(path: string): Promise<ReadableStream<Uint8Array>> {
  const stream = await openFileStream(path);
  const reader = stream.getReader();
  const first = await reader.read();
  reader.releaseLock();
  const head = first.done ? new Uint8Array(0) : first.value;
  // Put the sniffed chunk back in front of the rest.
  let pending: Uint8Array | undefined = head;
  const rest = stream.getReader();
  const whole = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending !== undefined) {
        const chunk = pending;
        pending = undefined;
        if (chunk.length > 0) {
          controller.enqueue(chunk);
          return;
        }
      }
      const { value, done } = await rest.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await rest.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return isGzip(head) ? gunzip(whole, path) : whole;
}
