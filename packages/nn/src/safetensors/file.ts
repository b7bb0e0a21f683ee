import type { NDArray } from "@backprop/tensor";
import { SafetensorsError } from "../errors.ts";
import { decodeSafetensors, type SafetensorsContents } from "./decode.ts";
import { encodeSafetensors } from "./encode.ts";

/** The part of Deno's file API these helpers use (library packages do not import `node:` modules). */
interface DenoFiles {
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

function deno(op: string): DenoFiles {
  const d = (globalThis as { Deno?: DenoFiles }).Deno;
  if (!d) {
    throw new SafetensorsError(
      `${op}: file access needs Deno; elsewhere write the bytes of encodeSafetensors() / read them for decodeSafetensors() yourself`,
    );
  }
  return d;
}

/**
 * Writes arrays (and string metadata) to a safetensors file atomically: the bytes go to a temporary file next
 * to `path`, which is then renamed over it, so a crash never leaves a half-written file. Deno only.
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, NDArray>,
  metadata?: Record<string, string>,
): Promise<void> {
  const fs = deno("saveSafetensorsFile");
  const bytes = encodeSafetensors(tensors, metadata);
  const temp = `${path}.tmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await fs.writeFile(temp, bytes);
    await fs.rename(temp, path);
  } catch (e) {
    await fs.remove(temp).catch(() => {});
    throw new SafetensorsError(`saveSafetensorsFile: cannot write ${path} (${messageOf(e)})`, { cause: e });
  }
}

/** Reads a safetensors file into CPU arrays; malformed files raise a `SafetensorsError` naming the file. Deno only. */
export async function loadSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const bytes = await deno("loadSafetensorsFile").readFile(path).catch((e: unknown) => {
    throw new SafetensorsError(`loadSafetensorsFile: cannot read ${path} (${messageOf(e)})`, { cause: e });
  });
  return decodeSafetensors(bytes, { source: path });
}

/** The message of a thrown value, for embedding in ours (the original stays as `cause`). */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
