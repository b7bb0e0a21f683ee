import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { noGrad, Tensor } from "@backprop/autograd";
import { Generator, randint, randn, tidy } from "@backprop/tensor";
import { describe, expect, test } from "vitest";
import { Adam, ConvNet, crossEntropy, encodeSafetensors, MLP, type Module } from "../src/mod.ts";

const script = join(dirname(fileURLToPath(import.meta.url)), "pytorch", "interop.py");
/** A Python that has torch (Debian's python3-torch lives under /usr/bin/python3), or null. */
const python = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import torch"]).status === 0) ?? null;
if (!python) console.log("skipping the PyTorch interoperability test: no python3 with torch (Debian: apt-get install python3-torch)");

/**
 * Trains `model` a few steps (so batch-norm running statistics are not their initial values), saves its state
 * dict and its evaluation-mode logits on a batch, and has PyTorch load the state into the equivalent module
 * of the README and recompute the logits.
 */
function roundTrip(model: Module, spec: Record<string, unknown>, inputShape: number[]) {
  const g = new Generator(3);
  const x = randn(inputShape, { generator: g });
  const y = randint(0, 10, [inputShape[0]!], { generator: g });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  for (let i = 0; i < 3; i++) {
    tidy(() => {
      opt.zeroGrad();
      crossEntropy(model.forward(new Tensor(x)) as Tensor, y).backward();
      opt.step();
    });
  }
  model.eval();
  const logits = noGrad(() => (model.forward(new Tensor(x)) as Tensor).value);
  const dir = mkdtempSync(join(tmpdir(), "backprop-torch-"));
  writeFileSync(join(dir, "model.json"), JSON.stringify(spec));
  writeFileSync(join(dir, "state.safetensors"), encodeSafetensors(model.stateDict()));
  writeFileSync(join(dir, "io.safetensors"), encodeSafetensors({ input: x, logits }));
  const r = spawnSync(python!, [script, dir], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { ok: boolean; max_abs_diff: number; missing: string[]; unexpected: string[] };
}

describe.skipIf(!python)("state dicts load into the equivalent PyTorch modules", () => {
  test("MLP with built-in batch norm", () => {
    const g = new Generator(1);
    const r = roundTrip(new MLP(48, [32, 16], 10, { batchNorm: "builtin", generator: g }), { kind: "mlp", n_inputs: 48, n_hidden: [32, 16], n_classes: 10, batch_norm: "builtin" }, [8, 48]);
    expect(r).toMatchObject({ ok: true, missing: [], unexpected: [] });
  }, 60_000);

  test("MLP with the custom batch norm", () => {
    const g = new Generator(2);
    const r = roundTrip(new MLP(48, [32], 10, { batchNorm: "manual", generator: g }), { kind: "mlp", n_inputs: 48, n_hidden: [32], n_classes: 10, batch_norm: "manual" }, [8, 48]);
    expect(r).toMatchObject({ ok: true, missing: [], unexpected: [] });
  }, 60_000);

  test("ConvNet", () => {
    const g = new Generator(4);
    const r = roundTrip(new ConvNet(3, 10, { generator: g }), { kind: "convnet", n_channels: 3, n_classes: 10 }, [2, 3, 32, 32]);
    expect(r).toMatchObject({ ok: true, missing: [], unexpected: [] });
    expect(r.max_abs_diff).toBeLessThan(1e-3);
  }, 60_000);
});
