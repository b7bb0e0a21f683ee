// What every section needs while the page is built: unique element ids and a place to report problems.
import { IdAllocator } from "./html.ts";
import type { Run } from "./types.ts";

export class ReportContext {
  readonly ids = new IdAllocator();
  readonly problems: string[] = [];
  readonly #runIds = new Map<Run, string>();

  /** The element id of a run's section, the same wherever the run is linked from. */
  runAnchor(run: Run): string {
    let id = this.#runIds.get(run);
    if (id === undefined) {
      id = this.ids.next(`run-${run.id}`);
      this.#runIds.set(run, id);
    }
    return id;
  }
}
