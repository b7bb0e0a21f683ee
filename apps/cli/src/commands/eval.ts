import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadCifar10 } from "@backprop/datasets";
import { RunRecordError, UsageError } from "../errors.ts";
import { configFromFlags, type TtaMode } from "../flags.ts";
import { readJsonRecord } from "../records.ts";
import { decodeCheckpoint } from "../train/checkpoint.ts";
import { resolveDevice } from "../train/device.ts";
import { evaluate } from "../train/evaluate.ts";
import { createTrainer } from "../train/models.ts";
import { buildPredictions } from "../train/predictions.ts";

/** `eval <run folder | checkpoint>`: test loss, accuracy and per-class accuracy of the saved model. */
export async function evalCommand(
  target: string,
  options: { dataDir?: string; device: string; evalBatchSize: number; json: boolean; tta?: TtaMode },
): Promise<number> {
  if (!existsSync(target)) throw new UsageError(`eval: ${target} does not exist (give a run folder or its checkpoint.safetensors)`);
  const checkpointFile = statSync(target).isDirectory() ? join(target, "checkpoint.safetensors") : target;
  const configFile = join(dirname(checkpointFile), "config.json");
  if (!existsSync(checkpointFile)) throw new UsageError(`eval: no checkpoint at ${checkpointFile}`);
  if (!existsSync(configFile)) throw new UsageError(`eval: ${configFile} is missing; it says which model the checkpoint holds`);
  const record = readJsonRecord(configFile);
  if (typeof record.flags !== "object" || record.flags === null) throw new RunRecordError(configFile, `has no "flags" object`);
  const config = configFromFlags(record.flags as Record<string, unknown>, configFile);
  // Checked (checksums) before anything else is set up.
  const { arrays, meta } = decodeCheckpoint(new Uint8Array(readFileSync(checkpointFile)), checkpointFile);
  const { device, note } = await resolveDevice(options.device as "cpu" | "webgpu" | "auto");
  const trainer = createTrainer(config, device);
  trainer.loadState(arrays, meta.trainer);
  const data = await loadCifar10({
    dataDir: options.dataDir ?? config.dataDir, seed: config.seed, normalization: config.normalize, device,
  });
  const tta = options.tta ?? "none";
  const ev = await evaluate(trainer, data.test, { batchSize: options.evalBatchSize, collect: true, tta });
  const p = buildPredictions(data.test, ev, 0, 0);
  const result = {
    checkpoint: checkpointFile, model: config.model, step: meta.step, device, tta,
    test_loss: ev.loss, test_accuracy: ev.accuracy, examples: ev.count,
    per_class_accuracy: Object.fromEntries(p.classes.map((c, i) => [c, p.per_class_accuracy[i]])),
  };
  if (options.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  const how = tta === "flip" ? " (mean of each image and its mirror image)" : "";
  console.log(`${note}\n${config.model} at step ${meta.step}: test accuracy ${ev.accuracy.toFixed(4)}, loss ${ev.loss.toFixed(4)} on ${ev.count} images${how}`);
  for (const [c, acc] of Object.entries(result.per_class_accuracy)) console.log(`  ${c.padEnd(12)} ${(acc as number).toFixed(4)}`);
  return 0;
}
