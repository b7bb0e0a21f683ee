import { decodeSafetensors, encodeSafetensors } from "@backprop/nn";
import type { DataSetState } from "@backprop/datasets";
import type { NDArray } from "@backprop/tensor";

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

export function decodeCheckpoint(bytes: Uint8Array, file: string): { arrays: Record<string, NDArray>; meta: CheckpointMeta } {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const raw = metadata?.[META_KEY];
  if (!raw) throw new Error(`${file}: not a training checkpoint (no "${META_KEY}" metadata); it may be a bare state dict`);
  return { arrays: tensors, meta: JSON.parse(raw) as CheckpointMeta };
}
