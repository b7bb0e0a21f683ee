// Writes through a temporary file and a rename, so a reader never sees a half-written report.
import { rename, rm, writeFile } from "node:fs/promises";
import process from "node:process";

export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${Date.now()}.tmp`;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
