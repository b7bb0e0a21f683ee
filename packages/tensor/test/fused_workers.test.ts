// The fused kernel over the worker pool (cases shared with fused_workers_deno_test.ts).
import { afterAll, test } from "vitest";
import { getNumThreads, setNumThreads } from "../src/mod.ts";
import { fusedWorkerCases } from "./fused_worker_cases.ts";

const initial = getNumThreads();
afterAll(() => setNumThreads(initial));
for (const c of fusedWorkerCases()) test(c.name, c.run, 120_000);
