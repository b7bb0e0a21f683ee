import { describe, expect, test } from "vitest";
import { runCli, type Handlers } from "../src/cli.ts";
import type { TrainConfig } from "../src/flags.ts";
import { configFlags, configFromFlags, normalizeFlagNames, parseHiddenUnits } from "../src/flags.ts";

function harness() {
  const seen: { train?: TrainConfig; errors: string[] } = { errors: [] };
  const handlers: Handlers = {
    train: (c) => {
      seen.train = c;
      return Promise.resolve(0);
    },
    eval: () => Promise.resolve(0),
    gradcheck: () => Promise.resolve(0),
    download: () => Promise.resolve(0),
    report: () => Promise.resolve(0),
  };
  const run = (argv: string[]) => runCli(argv, handlers, (s) => seen.errors.push(s));
  return { seen, run };
}

describe("train flags", () => {
  test("the assignment's MLP defaults", async () => {
    const { seen, run } = harness();
    expect(await run(["train", "mlp"])).toBe(0);
    expect(seen.train).toMatchObject({
      model: "mlp", dnnHiddenUnits: [100], learningRate: 2e-3, maxSteps: 1500, batchSize: 200, evalFreq: 100,
      optimizer: "sgd", seed: 42, device: "cpu", validationSize: 0, augment: false, lrSchedule: "constant", warmupSteps: 0,
    });
  });

  test("the assignment's CNN defaults: Adam, 1e-4, batch 32, 5,000 steps, eval every 500", async () => {
    const { seen, run } = harness();
    await run(["train", "cnn"]);
    expect(seen.train).toMatchObject({ learningRate: 1e-4, maxSteps: 5000, batchSize: 32, evalFreq: 500, evalBatchSize: 100, optimizer: "adam" });
  });

  test("snake_case and kebab-case flags, comma lists, flags with =", async () => {
    const { seen, run } = harness();
    await run(["train", "mlp", "--learning-rate", "0.01", "--dnn_hidden_units=512,256", "--max-steps=10", "--optimizer", "adam", "--augment", "--lr-schedule", "cosine", "--warmup-steps", "3"]);
    expect(seen.train).toMatchObject({
      learningRate: 0.01, dnnHiddenUnits: [512, 256], maxSteps: 10, optimizer: "adam", augment: true, lrSchedule: "cosine", warmupSteps: 3,
    });
    // What --resume may compare with the recorded flags: only those given, under their snake_case names.
    expect([...seen.train!.explicit!].sort()).toEqual(["augment", "dnn_hidden_units", "learning_rate", "lr_schedule", "max_steps", "optimizer", "warmup_steps"]);
  });

  test("flags a model uses are accepted where it uses them", async () => {
    const { seen, run } = harness();
    expect(await run(["train", "cnn", "--optimizer", "sgd", "--momentum", "0.9", "--weight_decay", "5e-4"])).toBe(0);
    expect(seen.train).toMatchObject({ optimizer: "sgd", momentum: 0.9, weightDecay: 5e-4 });
    expect(await run(["train", "mlp-bn", "--batch_norm", "autograd", "--dropout", "0.2", "--dnn_hidden_units", "64,32"])).toBe(0);
    expect(seen.train).toMatchObject({ batchNorm: "autograd", dropout: 0.2, dnnHiddenUnits: [64, 32] });
  });

  test("config.json records only the flags the model and optimizer use", () => {
    const base = configFromFlags({ model: "cnn" }, "config.json");
    expect(Object.keys(configFlags(base))).not.toContain("dnn_hidden_units");
    expect(configFlags(base)).not.toHaveProperty("batch_norm");
    expect(configFlags(base)).not.toHaveProperty("dropout");
    expect(configFlags(base)).not.toHaveProperty("momentum");
    expect(configFlags({ ...base, optimizer: "sgd" })).toHaveProperty("momentum", 0);
    const bn = configFromFlags({ model: "mlp-bn", batch_norm: "autograd" }, "config.json");
    expect(configFlags(bn)).toMatchObject({ dnn_hidden_units: "100", batch_norm: "autograd", dropout: 0, momentum: 0 });
    expect(configFlags({ ...bn, model: "mlp-manual" })).not.toHaveProperty("weight_decay");
  });

  test.each([
    [["train", "resnet"], /model.*expected one of mlp-manual, mlp, mlp-bn, cnn, got "resnet"/],
    [["train", "mlp", "--max_steps", "-5"], /--max_steps: must be at least 1, got -5/],
    [["train", "mlp", "--max_steps", "1.5"], /--max_steps: expected an integer/],
    [["train", "mlp", "--dnn_hidden_units", "10,,x"], /--dnn_hidden_units: .*item 2 is ""/],
    [["train", "mlp", "--device", "tpu"], /--device: expected one of cpu, webgpu, auto, got "tpu"/],
    [["train", "mlp", "--learning_rate", "abc"], /--learning_rate: expected a number, got "abc"/],
    [["train", "mlp", "--frobnicate"], /unknown option '--frobnicate'/],
    [["train", "mlp-manual", "--optimizer", "adam"], /mlp-manual updates its weights by plain SGD only/],
    [["train", "mlp", "--resume"], /--resume needs --out/],
    [["train", "mlp", "--lr_schedule", "linear"], /--lr_schedule: expected one of constant, cosine, got "linear"/],
    [["train", "mlp", "--warmup_steps", "100"], /--warmup_steps: only the cosine schedule warms up/],
    [["train", "mlp", "--lr_schedule", "cosine", "--warmup_steps", "1500"], /--warmup_steps: must be below --max_steps \(1500\), got 1500/],
    [["train", "cnn", "--dropout", "0.5"], /--dropout: cnn does not use it; it applies to mlp and mlp-bn/],
    [["train", "cnn", "--dnn_hidden_units", "512"], /--dnn_hidden_units: cnn does not use it; it applies to the MLPs/],
    [["train", "mlp", "--batch_norm", "autograd"], /--batch_norm: mlp does not use it; it applies to mlp-bn/],
    [["train", "mlp-manual", "--dropout", "0.1"], /--dropout: mlp-manual does not use it/],
    [["train", "mlp-manual", "--weight_decay", "1e-4"], /--weight_decay: mlp-manual does not use it; .*plain SGD/],
    [["train", "mlp-manual", "--momentum", "0.9"], /--momentum: mlp-manual does not use it/],
    [["train", "cnn", "--momentum", "0.9"], /--momentum: cnn with --optimizer adam does not use it; it applies to --optimizer sgd/],
    [["train"], /missing required argument 'model'/],
    [["fly"], /unknown command 'fly'/],
  ])("%j is a usage error (exit 2) with one clear line", async (argv, message) => {
    const { seen, run } = harness();
    expect(await run(argv as string[])).toBe(2);
    expect(seen.errors.join("\n")).toMatch(message as RegExp);
    expect(seen.train).toBeUndefined();
  });
});

test("parseHiddenUnits: an empty list is logistic regression", () => {
  expect(parseHiddenUnits("")).toEqual([]);
  expect(parseHiddenUnits(" 100 , 50 ")).toEqual([100, 50]);
});

test("normalizeFlagNames leaves values and positional arguments alone", () => {
  expect(normalizeFlagNames(["train", "mlp-bn", "--data-dir=a-b", "--max-steps", "-1"])).toEqual(
    ["train", "mlp-bn", "--data_dir=a-b", "--max_steps", "-1"],
  );
});
