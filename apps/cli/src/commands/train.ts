import type { TrainConfig } from "../flags.ts";
import { createProgress } from "../progress.ts";
import { StopSignal, train } from "../train/loop.ts";

/** `train <model>`: Ctrl-C once saves a checkpoint and stops cleanly; twice exits at once. */
export async function trainCommand(config: TrainConfig): Promise<number> {
  const progress = createProgress(config.progress, Math.max(1, Math.floor(config.evalFreq / 4)));
  const stop = new StopSignal();
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    progress.log("interrupt: saving a checkpoint after this step (Ctrl-C again to quit at once)");
  };
  process.on("SIGINT", onSigint);
  try {
    const { exitCode, summary, runDir } = await train(config, progress, stop);
    const acc = summary.final_test_accuracy;
    console.log(
      `${summary.status}: ${summary.steps} steps in ${summary.wall_s.toFixed(1)} s` +
        (acc !== null ? `, test accuracy ${acc.toFixed(4)} (best ${summary.best_test_accuracy?.toFixed(4)} at step ${summary.best_step})` : "") +
        ` — records in ${runDir}` + (summary.message ? `\n${summary.message}` : ""),
    );
    return exitCode;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
