import { gradcheck, relError, Tensor } from "@backprop/autograd";
import {
  BatchNormManualFunction,
  CrossEntropyModule,
  LinearModule,
  ReLUModule,
  SoftMaxModule,
} from "@backprop/nn";
import { Generator, type NDArray, randint, randn, tensor } from "@backprop/tensor";
import type { GradcheckCase } from "../gradcheck_cases.ts";

const EPS = 1e-6;

/** Overwrites `x`'s values in place (the modules hold their arrays, so the nudge must happen in place). */
function write(x: NDArray, values: Float64Array): void {
  const src = tensor(values, { shape: x.shape, dtype: "float64" });
  x.backend.copy(src, x);
  src.dispose();
}

const valuesOf = (a: NDArray) => Float64Array.from(a.dataSync() as Float64Array);

/**
 * Central differences of Σ f(x) ⊙ r with respect to each of `x`'s values (r = 1 for a scalar f). Each probe's
 * outputs are differenced before they are projected: projecting first subtracts two sums as large as the outputs,
 * and their rounding swamps the derivative when the outputs are large.
 */
export function numericGrad(x: NDArray, f: () => NDArray, r?: NDArray): Float64Array {
  const data = x.dataSync() as Float64Array;
  const weights = r ? valuesOf(r) : new Float64Array([1]);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    data[i] = v + EPS;
    write(x, data);
    const plus = valuesOf(f());
    data[i] = v - EPS;
    write(x, data);
    const minus = valuesOf(f());
    data[i] = v;
    write(x, data);
    let total = 0;
    for (let k = 0; k < weights.length; k++) total += (plus[k]! - minus[k]!) * weights[k]!;
    out[i] = total / (2 * EPS);
  }
  return out;
}

function moduleCase(name: string, shapes: string, tolerance: number, check: () => number): GradcheckCase {
  return {
    name, kind: "module", shapes,
    run: () => {
      const e = check();
      return { maxRelError: e, pass: e < tolerance };
    },
  };
}

/** The assignment's manual modules and the custom batch norm, with its relError bounds (1e-5; ReLU 1e-6). */
export function moduleCases(): Promise<GradcheckCase[]> {
  const gen = new Generator(99);
  const f64 = { dtype: "float64" as const, generator: gen };
  const cases: GradcheckCase[] = [
    moduleCase("LinearModule (dx, dW, db)", "x [8,6] → [8,4]", 1e-5, () => {
      const layer = new LinearModule(6, 4, f64);
      const x = randn([8, 6], f64), r = randn([8, 4], f64);
      layer.forward(x);
      const dx = layer.backward(r);
      const f = () => layer.forward(x);
      return Math.max(
        relError(dx.dataSync(), numericGrad(x, f, r)),
        relError(layer.grads.weight.dataSync(), numericGrad(layer.params.weight, f, r)),
        relError(layer.grads.bias.dataSync(), numericGrad(layer.params.bias, f, r)),
      );
    }),
    moduleCase("ReLUModule", "x [8,6]", 1e-6, () => {
      const layer = new ReLUModule();
      const base = randn([8, 6], f64);
      const x = base.sign().mul(base.abs().add(0.1));
      const r = randn([8, 6], f64);
      layer.forward(x);
      const dx = layer.backward(r);
      return relError(dx.dataSync(), numericGrad(x, () => layer.forward(x), r));
    }),
    moduleCase("SoftMaxModule", "x [8,10]", 1e-5, () => {
      const layer = new SoftMaxModule();
      const x = randn([8, 10], f64), r = randn([8, 10], f64);
      layer.forward(x);
      const dx = layer.backward(r);
      return relError(dx.dataSync(), numericGrad(x, () => layer.forward(x), r));
    }),
    moduleCase("CrossEntropyModule", "p [8,10], y [8]", 1e-5, () => {
      const layer = new CrossEntropyModule();
      const p = randn([8, 10], f64).softmax(1);
      const y = randint(0, 10, [8], { generator: gen });
      const dx = layer.backward(p, y);
      return relError(dx.dataSync(), numericGrad(p, () => layer.forward(p, y)));
    }),
    {
      // As the assignment checks it: torch-style gradcheck (|a − n| ≤ atol + rtol·|n|), since the batch-norm
      // gradients that are 0 in exact arithmetic make the elementwise relError measure only rounding noise.
      name: "BatchNormManualFunction (dx, dγ, dβ)",
      kind: "module",
      shapes: "x [32,6], γ = √(10·i), β = 100·i",
      run: () => {
        const x = randn([32, 6], f64).mul(2).add(10);
        const gamma = tensor(Array.from({ length: 6 }, (_, i) => Math.sqrt(10 * (i + 1))), { dtype: "float64" });
        const beta = tensor(Array.from({ length: 6 }, (_, i) => 100 * (i + 1)), { dtype: "float64" });
        const inputs = [x, gamma, beta].map((a) => new Tensor(a, { requiresGrad: true }));
        const r = gradcheck((x, g, b) => BatchNormManualFunction.apply(x, g, b, 1e-5), inputs, { raiseException: false });
        return { maxRelError: r.maxRelError, pass: r.pass };
      },
    },
  ];
  return Promise.resolve(cases);
}
