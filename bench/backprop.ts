// The workloads in backprop, written as a user would: nn modules, the functional loss, an optimizer, tidy.
import { noGrad, Tensor } from "@backprop/autograd";
import { Adam, ConvNet, crossEntropy, MLP, SGD } from "@backprop/nn";
import { conv2d, Generator, matmul, randint, randn, tidy } from "@backprop/tensor";
import type { Runner, Workload } from "./workloads.ts";

function mlp(hidden: number[], optimizer: "sgd" | "adam"): Runner {
  const g = new Generator(1);
  const model = new MLP(3072, hidden, 10, { generator: g });
  const opt = optimizer === "sgd" ? new SGD(model.parameters(), { lr: 1e-3 }) : new Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([200, 3072], { generator: g }).keep();
  const y = randint(0, 10, [200], { generator: g }).keep();
  return {
    run: () =>
      tidy(() => {
        opt.zeroGrad();
        crossEntropy(model.forward(new Tensor(x)), y).backward();
        opt.step();
      }),
    dispose: () => [x, y, ...model.parameters()].forEach((a) => a.dispose()),
  };
}

function convnetStep(): Runner {
  const g = new Generator(2);
  const model = new ConvNet(3, 10, { generator: g });
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([32, 3, 32, 32], { generator: g }).keep();
  const y = randint(0, 10, [32], { generator: g }).keep();
  model.train();
  return {
    run: () =>
      tidy(() => {
        opt.zeroGrad();
        crossEntropy(model.forward(new Tensor(x)), y).backward();
        opt.step();
      }),
    dispose: () => [x, y, ...model.parameters()].forEach((a) => a.dispose()),
  };
}

function convnetEval(): Runner {
  const g = new Generator(3);
  const model = new ConvNet(3, 10, { generator: g });
  model.eval();
  const x = randn([500, 3, 32, 32], { generator: g }).keep();
  return {
    // Reading one value forces nothing on the CPU (kernels run eagerly) but keeps the work comparable
    // with frameworks that need a read to finish.
    run: () => tidy(() => void noGrad(() => model.forward(new Tensor(x))).value.dataSync()),
    dispose: () => x.dispose(),
  };
}

export function backpropRunner(w: Workload): Runner {
  switch (w.key) {
    case "W1":
      return mlp([100], "sgd");
    case "W2":
      return mlp([200, 200, 100], "adam");
    case "W3":
      return convnetStep();
    case "W3e":
      return convnetEval();
    case "W4": {
      const g = new Generator(4);
      const a = randn([1024, 1024], { generator: g }).keep(), b = randn([1024, 1024], { generator: g }).keep();
      return { run: () => tidy(() => void matmul(a, b)), dispose: () => [a, b].forEach((t) => t.dispose()) };
    }
    case "W5": {
      const g = new Generator(5);
      const x = randn([32, 128, 16, 16], { generator: g }).keep(), w = randn([128, 128, 3, 3], { generator: g }).keep();
      return { run: () => tidy(() => void conv2d(x, w, null, { padding: 1 })), dispose: () => [x, w].forEach((t) => t.dispose()) };
    }
  }
}
