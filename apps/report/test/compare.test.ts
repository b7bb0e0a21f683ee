import { describe, expect, it } from "vitest";
import { canonical, commonSettings, configurations, oneSettingComparisons, settingsOf, varyingSettings } from "../src/compare.ts";
import type { FlagValue, Run } from "../src/types.ts";

function run(id: string, flags: Record<string, FlagValue>, model = "mlp"): Run {
  return { id, dir: `runs/${id}`, config: { name: id, model, flags: { out: `runs/${id}`, ...flags } }, metrics: [], problems: [] };
}

const base = { learning_rate: 0.002, dnn_hidden_units: [100], optimizer: "sgd", batch_norm: false };
const runs = [
  run("base-s42", { ...base, seed: 42 }),
  run("base-s43", { ...base, seed: 43 }),
  run("lr-s42", { ...base, learning_rate: 0.0001, seed: 42 }),
  run("lr2-s42", { ...base, learning_rate: 0.01, seed: 42 }),
  run("wide-s42", { ...base, dnn_hidden_units: [512, 256], seed: 42 }),
  run("bn-s42", { ...base, batch_norm: true, seed: 42 }),
  run("adam-wide", { ...base, optimizer: "adam", dnn_hidden_units: [512, 256], seed: 42 }),
  run("cnn", { ...base, seed: 42 }, "cnn"),
];

describe("settingsOf", () => {
  it("holds the model and every flag except seed and where-it-was-written flags", () => {
    const s = settingsOf(runs[4]);
    expect([...s.keys()].sort()).toEqual(["batch_norm", "dnn_hidden_units", "learning_rate", "model", "optimizer"]);
    expect(s.get("dnn_hidden_units")).toBe("512,256");
    expect(s.get("model")).toBe("mlp");
  });

  it("writes values canonically", () => {
    expect(canonical("adam")).toBe("adam");
    expect(canonical(0.002)).toBe("0.002");
    expect(canonical([512, 256])).toBe("512,256");
    expect(canonical({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(`{"a":[1,{"c":3,"d":2}],"b":1}`);
  });
});

describe("configurations (seed groups)", () => {
  it("puts runs differing only in seed together", () => {
    const configs = configurations(runs);
    expect(configs.map((c) => c.runs.map((r) => r.id))).toEqual([
      ["base-s42", "base-s43"],
      ["lr-s42"],
      ["lr2-s42"],
      ["wide-s42"],
      ["bn-s42"],
      ["adam-wide"],
      ["cnn"],
    ]);
  });

  it("skips runs without a config", () => {
    expect(configurations([{ id: "x", dir: "x", metrics: [], problems: [] }])).toEqual([]);
  });
});

describe("oneSettingComparisons", () => {
  const groups = oneSettingComparisons(runs);
  const summary = groups.map((g) => `${g.setting}: ${g.members.map((m) => `${m.value}[${m.runs.map((r) => r.id).join(" ")}]`).join(" | ")}`);

  it("finds every group that differs in exactly one setting", () => {
    expect(summary).toEqual([
      "batch_norm: false[base-s42 base-s43] | true[bn-s42]",
      "dnn_hidden_units: 100[base-s42 base-s43] | 512,256[wide-s42]",
      "learning_rate: 0.0001[lr-s42] | 0.002[base-s42 base-s43] | 0.01[lr2-s42]",
      "model: cnn[cnn] | mlp[base-s42 base-s43]",
      "optimizer: adam[adam-wide] | sgd[wide-s42]",
    ]);
  });

  it("orders numeric values numerically and records what is held fixed", () => {
    const lr = groups.find((g) => g.setting === "learning_rate")!;
    expect(lr.members.map((m) => m.value)).toEqual(["0.0001", "0.002", "0.01"]);
    expect(lr.fixed.get("optimizer")).toBe("sgd");
    expect(lr.fixed.has("learning_rate")).toBe(false);
  });

  it("treats a flag one run lacks as its own value", () => {
    const a = run("a", { learning_rate: 0.1 });
    const b = run("b", { learning_rate: 0.1, augment: true });
    const [g] = oneSettingComparisons([a, b]);
    expect(g.setting).toBe("augment");
    expect(g.members.map((m) => m.value)).toEqual(["(unset)", "true"]);
  });

  it("finds nothing when every run differs in two or more settings", () => {
    expect(oneSettingComparisons([run("a", { x: 1, y: 1 }), run("b", { x: 2, y: 2 })])).toEqual([]);
  });
});

describe("commonSettings", () => {
  it("takes the most frequent value of each setting", () => {
    const common = commonSettings(runs, ["learning_rate", "optimizer", "model", "dnn_hidden_units"]);
    expect(Object.fromEntries(common)).toEqual({
      learning_rate: "0.002",
      optimizer: "sgd",
      model: "mlp",
      dnn_hidden_units: "100",
    });
  });
});

describe("varyingSettings", () => {
  it("lists settings whose values are not all the same", () => {
    expect(varyingSettings(runs)).toEqual(["batch_norm", "dnn_hidden_units", "learning_rate", "model", "optimizer"]);
    expect(varyingSettings(runs.slice(0, 2))).toEqual([]);
  });
});
