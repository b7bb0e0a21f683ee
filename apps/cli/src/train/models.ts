import { noGrad, Tensor } from "@backprop/autograd";
import {
  Adam,
  AdamW,
  ConvNet,
  crossEntropy,
  CrossEntropyModule,
  flattenOptimizerState,
  init,
  Linear,
  ManualMLP,
  MLP,
  type Module,
  type Optimizer,
  SGD,
  unflattenOptimizerState,
} from "@backprop/nn";
import { Generator, type NDArray, tidy } from "@backprop/tensor";
import type { TrainConfig } from "../flags.ts";
import type { Trainer } from "./trainer.ts";

const INPUTS = 3 * 32 * 32;
const CLASSES = 10;
const MODEL = "model.";

function prefixed(prefix: string, arrays: Record<string, NDArray>): Record<string, NDArray> {
  return Object.fromEntries(Object.entries(arrays).map(([k, v]) => [prefix + k, v]));
}

function unprefixed(prefix: string, arrays: Record<string, NDArray>): Record<string, NDArray> {
  return Object.fromEntries(Object.entries(arrays).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** An nn `Module` trained by an optimizer through autograd (mlp, mlp-bn, cnn). */
class AutogradTrainer implements Trainer {
  constructor(
    readonly model: Module,
    readonly optimizer: Optimizer,
    /** Draws dropout masks; its state is checkpointed so a resumed run drops the same units. */
    readonly generator: Generator,
    readonly flatten: boolean,
  ) {}

  #input(images: NDArray): Tensor {
    return new Tensor(this.flatten ? images.reshape([images.shape[0]!, -1]) : images);
  }

  trainStep(images: NDArray, labels: NDArray): { loss: NDArray; correct: NDArray } {
    return tidy(() => {
      this.model.train();
      this.optimizer.zeroGrad();
      const logits = this.model.forward(this.#input(images)) as Tensor;
      const loss = crossEntropy(logits, labels);
      loss.backward();
      this.optimizer.step();
      return { loss: loss.value, correct: logits.value.argmax(1).eq(labels).sum() };
    });
  }

  setLearningRate(lr: number): void {
    for (const g of this.optimizer.paramGroups) g.lr = lr;
  }

  predict(images: NDArray): NDArray {
    this.model.eval();
    return noGrad(() => (this.model.forward(this.#input(images)) as Tensor).value);
  }

  state(): Record<string, NDArray> {
    const flat = flattenOptimizerState(this.optimizer.stateDict(), "optimizer.");
    return { ...prefixed(MODEL, this.model.stateDict()), ...flat.arrays };
  }

  extraState(): unknown {
    const flat = flattenOptimizerState(this.optimizer.stateDict(), "optimizer.");
    return { optimizer: flat.json, generator: this.generator.getState() };
  }

  loadState(arrays: Record<string, NDArray>, extra: unknown): void {
    const e = extra as { optimizer: Parameters<typeof unflattenOptimizerState>[1]; generator: ReturnType<Generator["getState"]> };
    this.model.loadStateDict(unprefixed(MODEL, arrays));
    this.optimizer.loadStateDict(unflattenOptimizerState(arrays, e.optimizer, "optimizer."));
    this.generator.setState(e.generator);
  }

  parameterCount(): number {
    return this.model.parameters().reduce((a, p) => a + p.size, 0);
  }
}

/** The assignment's hand-written-backprop MLP, updated by plain SGD (mlp-manual). */
class ManualTrainer implements Trainer {
  readonly loss = new CrossEntropyModule();
  constructor(readonly model: ManualMLP, public lr: number) {}

  trainStep(images: NDArray, labels: NDArray): { loss: NDArray; correct: NDArray } {
    return tidy(() => {
      const x = images.reshape([images.shape[0]!, -1]);
      const probs = this.model.forward(x);
      const loss = this.loss.forward(probs, labels);
      // Nothing reads dL/dimages: the first layer skips it.
      this.model.backward(this.loss.backward(probs, labels), { inputGrad: false });
      this.model.sgdStep(this.lr);
      this.model.clearCache();
      return { loss, correct: probs.argmax(1).eq(labels).sum() };
    });
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  /** log-probabilities: cross-entropy of these as logits equals the model's own loss. */
  predict(images: NDArray): NDArray {
    const probs = this.model.forward(images.reshape([images.shape[0]!, -1]));
    this.model.clearCache();
    return probs.clamp(1e-30).log();
  }

  state(): Record<string, NDArray> {
    return prefixed(MODEL, this.model.stateDict());
  }
  extraState(): unknown {
    return {};
  }
  loadState(arrays: Record<string, NDArray>): void {
    this.model.loadStateDict(unprefixed(MODEL, arrays));
  }
  parameterCount(): number {
    return this.model.linears.reduce((a, l) => a + l.params.weight.size + l.params.bias.size, 0);
  }
}

function optimizerFor(c: TrainConfig, model: Module): Optimizer {
  const params = model.parameters();
  switch (c.optimizer) {
    case "sgd":
      return new SGD(params, { lr: c.learningRate, momentum: c.momentum, weightDecay: c.weightDecay });
    case "adam":
      return new Adam(params, { lr: c.learningRate, weightDecay: c.weightDecay });
    case "adamw":
      return new AdamW(params, { lr: c.learningRate, weightDecay: c.weightDecay });
  }
}

/** Builds the model the config names, initialised from its seed, on `device`. */
export function createTrainer(c: TrainConfig, device: string): Trainer {
  const generator = new Generator(c.seed);
  if (c.model === "mlp-manual") {
    return new ManualTrainer(new ManualMLP(INPUTS, c.dnnHiddenUnits, CLASSES, { generator, device }), c.learningRate);
  }
  let model: Module;
  if (c.model === "cnn") model = new ConvNet(3, CLASSES, { generator, device });
  else {
    const batchNorm = c.model === "mlp-bn" ? c.batchNorm : false;
    model = new MLP(INPUTS, c.dnnHiddenUnits, CLASSES, { generator, device, batchNorm, dropout: c.dropout });
  }
  if (c.init === "assignment") assignmentInit(model, c.seed);
  return new AutogradTrainer(model, optimizerFor(c, model), generator, c.model !== "cnn");
}

/**
 * The course's initialisation: every linear weight N(0, 0.0001²), biases 0, drawn in layer order from a fresh
 * generator of the run's seed — the numbers `ManualMLP` draws, so `mlp` and `mlp-manual` start identical.
 */
function assignmentInit(model: Module, seed: number): void {
  const g = new Generator(seed);
  for (const m of model.modules()) {
    if (m instanceof Linear) {
      init.normal_(m.weight, 0, 1e-4, { generator: g });
      if (m.bias) init.zeros_(m.bias);
    }
  }
}
