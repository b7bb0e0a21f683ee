// Timing of a loop for the in-process comparisons (bench/w1_*.ts): each burst runs one thing back to back.

/** Median ms of runs of `run` back to back for `ms`. */
export function medianBurst(run: () => void, ms: number): number {
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < ms) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}
