import cliProgress from "cli-progress";

export interface ProgressState {
  step: number;
  totalSteps: number;
  stepsPerSecond: number;
  lastLoss: number | null;
  lastTestAccuracy: number | null;
}

/** Shows training progress: a bar on a terminal, plain periodic lines otherwise (CI, logs), or nothing. */
export interface Progress {
  start(state: ProgressState): void;
  update(state: ProgressState): void;
  /** A line that must not be overwritten by the bar (evaluation results, warnings). */
  log(line: string): void;
  stop(): void;
}

const fmt = (v: number | null, digits: number) => (v === null || Number.isNaN(v) ? "–" : v.toFixed(digits));

function eta(s: ProgressState): string {
  if (s.stepsPerSecond <= 0) return "–";
  const secs = Math.round((s.totalSteps - s.step) / s.stepsPerSecond);
  const m = Math.floor(secs / 60), r = secs % 60;
  return m > 0 ? `${m}m${String(r).padStart(2, "0")}s` : `${r}s`;
}

class BarProgress implements Progress {
  #bar = new cliProgress.SingleBar(
    {
      format: "{bar} {value}/{total} | {rate} steps/s | ETA {etaText} | loss {loss} | test acc {acc}",
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  #payload(s: ProgressState) {
    return { rate: fmt(s.stepsPerSecond, 1), etaText: eta(s), loss: fmt(s.lastLoss, 4), acc: fmt(s.lastTestAccuracy, 4) };
  }
  #state: ProgressState | null = null;
  start(s: ProgressState): void {
    this.#state = s;
    this.#bar.start(s.totalSteps, s.step, this.#payload(s));
  }
  update(s: ProgressState): void {
    this.#state = s;
    this.#bar.update(s.step, this.#payload(s));
  }
  log(line: string): void {
    this.#bar.stop();
    console.log(line);
    if (this.#state) this.start(this.#state);
  }
  stop(): void {
    this.#bar.stop();
  }
}

/**
 * Prints a status line every `every` steps and whatever is logged; at the last step also once more when an
 * evaluation changes the figures, so the final line shows the final evaluation rather than the one before it.
 */
export class LineProgress implements Progress {
  #last = 0;
  #lastFigures = "";
  constructor(private readonly every: number) {}
  #line(s: ProgressState): string {
    return `step ${s.step}/${s.totalSteps} | ${fmt(s.stepsPerSecond, 1)} steps/s | ETA ${eta(s)} | loss ${fmt(s.lastLoss, 4)} | test acc ${fmt(s.lastTestAccuracy, 4)}`;
  }
  start(s: ProgressState): void {
    this.#last = s.step;
  }
  update(s: ProgressState): void {
    const figures = `${fmt(s.lastLoss, 4)} ${fmt(s.lastTestAccuracy, 4)}`;
    const atEnd = s.step === s.totalSteps && (s.step !== this.#last || figures !== this.#lastFigures);
    if (s.step - this.#last >= this.every || atEnd) {
      this.#last = s.step;
      this.#lastFigures = figures;
      console.log(this.#line(s));
    }
  }
  log(line: string): void {
    console.log(line);
  }
  stop(): void {}
}

class SilentProgress implements Progress {
  start(): void {}
  update(): void {}
  log(): void {}
  stop(): void {}
}

export function createProgress(mode: "auto" | "bar" | "lines" | "none", every: number): Progress {
  const tty = !!process.stdout.isTTY && !process.env.CI;
  if (mode === "none") return new SilentProgress();
  if (mode === "bar" || (mode === "auto" && tty)) return new BarProgress();
  return new LineProgress(every);
}
