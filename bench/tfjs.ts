// The workloads in TensorFlow.js (cpu and wasm backends), written to give it its best case: weights stored
// [in, out] and a dense layer whose gradient uses explicit transposes (its wasm backend runs a product
// with a transposed operand far slower than a transpose followed by a plain product), NHWC images (its
// native layout), moments + batchNorm for batch norm.
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { CONVNET_LAYERS, type Runner, type Workload } from "./workloads.ts";

let wasmPathSet = false;

/** Switches TF.js to `backend` ("cpu" or "wasm"). */
export async function useTfBackend(backend: "cpu" | "wasm"): Promise<void> {
  if (backend === "wasm" && !wasmPathSet) {
    const dir = new URL("./node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).pathname;
    setWasmPaths(dir);
    wasmPathSet = true;
  }
  await tf.setBackend(backend);
  await tf.ready();
}

export const tfVersion: string = tf.version.tfjs;

/** x·W with the gradient written as explicit transposes followed by plain products. */
// customGrad passes (...inputs, save) as one rest list; its typing cannot say so.
const dense = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

function mlp(sizes: number[], optimizer: tf.Optimizer): Runner {
  const vars: tf.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    vars.push(tf.variable(tf.randomNormal([sizes[i]!, sizes[i + 1]!], 0, Math.sqrt(2 / sizes[i]!))));
    vars.push(tf.variable(tf.zeros([sizes[i + 1]!])));
  }
  const x = tf.randomNormal([200, 3072]) as tf.Tensor2D;
  const y = tf.oneHot(tf.randomUniform([200], 0, 10, "int32") as tf.Tensor1D, 10);
  return {
    run: async () => {
      const loss = optimizer.minimize(() => {
        let h: tf.Tensor2D = x;
        for (let i = 0; i < vars.length; i += 2) {
          h = tf.add(dense(h, vars[i] as tf.Variable<tf.Rank.R2>), vars[i + 1]!);
          if (i + 2 < vars.length) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(y, h) as tf.Scalar;
      }, true);
      await loss!.data();
      loss!.dispose();
    },
    dispose: () => {
      tf.dispose([x, y, ...vars]);
      optimizer.dispose();
    },
  };
}

interface ConvNetVars {
  convs: { w: tf.Variable; b: tf.Variable; gamma: tf.Variable; beta: tf.Variable; mean: tf.Tensor; variance: tf.Tensor }[];
  fcW: tf.Variable;
  fcB: tf.Variable;
}

function convnetVars(): ConvNetVars {
  return {
    convs: CONVNET_LAYERS.map(([i, o]) => ({
      w: tf.variable(tf.randomNormal([3, 3, i, o], 0, Math.sqrt(2 / (9 * i)))),
      b: tf.variable(tf.zeros([o])),
      gamma: tf.variable(tf.ones([o])),
      beta: tf.variable(tf.zeros([o])),
      mean: tf.zeros([o]),
      variance: tf.ones([o]),
    })),
    fcW: tf.variable(tf.randomNormal([512, 10], 0, Math.sqrt(1 / 512))),
    fcB: tf.variable(tf.zeros([10])),
  };
}

/** The ConvNet on NHWC images: conv → batch norm → ReLU, max pooling after blocks 1, 2, 3b, 4b, 5b. */
function convnetForward(v: ConvNetVars, x: tf.Tensor4D, training: boolean): tf.Tensor2D {
  let h: tf.Tensor4D = x;
  v.convs.forEach((c, i) => {
    h = tf.add(tf.conv2d(h, c.w as tf.Variable<tf.Rank.R4>, 1, "same"), c.b) as tf.Tensor4D;
    const [mean, variance] = training ? (() => {
      const m = tf.moments(h, [0, 1, 2]);
      return [m.mean, m.variance];
    })() : [c.mean, c.variance];
    h = tf.relu(tf.batchNorm(h, mean!, variance!, c.beta, c.gamma, 1e-5)) as tf.Tensor4D;
    if (i === 0 || i === 1 || i === 3 || i === 5 || i === 7) h = tf.maxPool(h, 3, 2, "same");
  });
  return tf.add(tf.matMul(tf.reshape(h, [x.shape[0], 512]) as tf.Tensor2D, v.fcW as tf.Variable<tf.Rank.R2>), v.fcB);
}

function convnetStep(): Runner {
  const v = convnetVars();
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([32, 32, 32, 3]) as tf.Tensor4D;
  const y = tf.oneHot(tf.randomUniform([32], 0, 10, "int32") as tf.Tensor1D, 10);
  return {
    run: async () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, convnetForward(v, x, true)) as tf.Scalar, true);
      await loss!.data();
      loss!.dispose();
    },
    dispose: () => {
      tf.dispose([x, y, v.fcW, v.fcB, ...v.convs.flatMap((c) => [c.w, c.b, c.gamma, c.beta, c.mean, c.variance])]);
      optimizer.dispose();
    },
  };
}

function convnetEval(): Runner {
  const v = convnetVars();
  const x = tf.randomNormal([500, 32, 32, 3]) as tf.Tensor4D;
  return {
    run: async () => {
      const out = tf.tidy(() => convnetForward(v, x, false));
      await out.data();
      out.dispose();
    },
    dispose: () => tf.dispose([x, v.fcW, v.fcB, ...v.convs.flatMap((c) => [c.w, c.b, c.gamma, c.beta, c.mean, c.variance])]),
  };
}

export function tfRunner(w: Workload): Runner {
  switch (w.key) {
    case "W1":
      return mlp([3072, 100, 10], tf.train.sgd(1e-3));
    case "W2":
      return mlp([3072, 200, 200, 100, 10], tf.train.adam(1e-3));
    case "W3":
      return convnetStep();
    case "W3e":
      return convnetEval();
    case "W4": {
      const a = tf.randomNormal([1024, 1024]) as tf.Tensor2D, b = tf.randomNormal([1024, 1024]) as tf.Tensor2D;
      return {
        run: async () => {
          const c = tf.matMul(a, b);
          await c.data();
          c.dispose();
        },
        dispose: () => tf.dispose([a, b]),
      };
    }
    case "W5": {
      const x = tf.randomNormal([32, 16, 16, 128]) as tf.Tensor4D, k = tf.randomNormal([3, 3, 128, 128]) as tf.Tensor4D;
      return {
        run: async () => {
          const c = tf.conv2d(x, k, 1, "same");
          await c.data();
          c.dispose();
        },
        dispose: () => tf.dispose([x, k]),
      };
    }
  }
}
