import { decodeSafetensors, encodeSafetensors } from "@backprop/nn";
import type { DataSetState } from "@backprop/datasets";
import type { NDArray } from "@backprop/tensor";
import { RunRecordError } from "../errors.ts";

/** What, besides the arrays, a checkpoint must restore for `--resume` to continue the run exactly. */
export interface CheckpointMeta {
  step: number;
  train: DataSetState;
  trainer: unknown;
  /** Examples seen in the current metrics window (its sums are stored as arrays). */
  window_examples: number;
  best_test_accuracy: number | null;
  best_step: number | null;
  elapsed_s: number;
  peak_rss_bytes: number;
  /** Length and CRC-32C of metrics.jsonl when the checkpoint was written (absent in checkpoints older than them). */
  metrics?: { bytes: number; crc32c: string };
}

const META_KEY = "backprop";

/** Safetensors bytes of the arrays (read back to the CPU first where they live on another device) and `meta`. */
export async function encodeCheckpoint(arrays: Record<string, NDArray>, meta: CheckpointMeta): Promise<Uint8Array> {
  const onCpu: Record<string, NDArray> = {};
  for (const [k, v] of Object.entries(arrays)) onCpu[k] = v.device === "cpu" ? v : await v.toAsync("cpu");
  const bytes = encodeSafetensors(onCpu, { [META_KEY]: JSON.stringify(meta), format: "backprop-checkpoint" });
  for (const [k, v] of Object.entries(onCpu)) if (v !== arrays[k]) v.dispose();
  return bytes;
}

/**
 * The arrays and metadata of a checkpoint file's bytes. Damage is an error naming `file` (a `ChecksumError` naming
 * the tensor when the data fails its checksum); `warn` hears when the file predates checksums and cannot be checked.
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  file: string,
  warn: (line: string) => void = (line) => console.error(line),
): { arrays: Record<string, NDArray>; meta: CheckpointMeta } {
  const { tensors, metadata, checksum } = decodeSafetensors(bytes, { source: file });
  const raw = metadata[META_KEY];
  if (!raw) throw new RunRecordError(file, `not a training checkpoint (no "${META_KEY}" metadata); it may be a bare state dict`);
  if (checksum === "absent") warn(`warning: ${file} carries no checksums (written before checksums existed); its data cannot be verified`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(raw) as CheckpointMeta;
  } catch (e) {
    throw new RunRecordError(file, `the "${META_KEY}" metadata is not valid JSON (${(e as Error).message}); the file is damaged`);
  }
  if (!Number.isInteger(meta?.step) || meta.step < 0) throw new RunRecordError(file, `the "${META_KEY}" metadata has no valid step`);
  return { arrays: tensors, meta };
}
