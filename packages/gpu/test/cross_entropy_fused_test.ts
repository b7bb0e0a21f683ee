/**
 * Cross-entropy as fused passes on WebGPU: the loss and the logits' gradient equal the composed graph on the
 * device and the CPU's fused result within float32 rounding, for class indices and probabilities, every
 * reduction, [N, C] and [N, C, d] logits up to ±1e4; and a training-style step leaves no GPU storage behind.
 * Values are read back in one batch per case (each read-back costs about 11 ms on Deno).
 */
import { Tensor } from "@backprop/autograd";
import { crossEntropy, type Reduction } from "@backprop/nn";
import { Generator, type NDArray, randint, randn, softmax, tidy } from "@backprop/tensor";
import { gpu, noGpu } from "./setup.ts";

const test = (name: string, fn: () => Promise<void> | void) => Deno.test({ name: `webgpu cross-entropy: ${name}`, ignore: noGpu, fn });

/** Loss and gradient arrays (kept past the scope) for logits on `device`. */
function lossAndGrad(x0: NDArray, target: NDArray, reduction: Reduction, fused: boolean, device: string): NDArray[] {
  return tidy(() => {
    const x = new Tensor(x0.to(device), { requiresGrad: true });
    const loss = crossEntropy(x, target.to(device), { reduction, fused });
    if (fused && loss.gradFn?.name !== "CrossEntropyFused") throw new Error(`${device}: the fused path was not taken`);
    const probe = randn(loss.shape, { generator: new Generator(9) }).to(device);
    loss.mul(new Tensor(probe)).sum().backward();
    const grad = x.grad!.value;
    return [loss.value.keep(), grad.keep()];
  });
}

/** |got − want| ≤ tol · max(1, largest |want|), element by element. */
function expectNear(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * scale)) throw new Error(`${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

test("loss and gradient equal the composed graph on the device and the CPU's fused passes", async () => {
  let seed = 1;
  for (const shape of [[32, 10], [7, 5, 3], [16, 1000]]) {
    for (const scale of [1, 1e4]) {
      for (const probabilities of [false, true]) {
        const x0 = randn(shape, { generator: new Generator(seed++) }).mul(scale);
        const target = probabilities
          ? softmax(randn(shape, { generator: new Generator(seed++) }).mul(2), 1)
          : randint(0, shape[1]!, shape.filter((_, i) => i !== 1), { generator: new Generator(seed++) });
        for (const reduction of ["mean", "sum", "none"] as const) {
          const runs = [lossAndGrad(x0, target, reduction, true, "webgpu"), lossAndGrad(x0, target, reduction, false, "webgpu"), lossAndGrad(x0, target, reduction, true, "cpu")];
          const data = await Promise.all(runs.flat().map((a) => a.data()));
          runs.flat().forEach((a) => a.dispose());
          const what = `[${shape}] ×${scale} ${probabilities ? "probabilities" : "indices"} ${reduction}`;
          for (const [k, name] of [[0, "loss"], [1, "grad"]] as const) {
            expectNear(`${what} fused vs composed ${name}`, data[k]!, data[2 + k]!, 1e-5);
            expectNear(`${what} webgpu vs cpu ${name}`, data[k]!, data[4 + k]!, 1e-5);
          }
        }
        x0.dispose();
        target.dispose();
      }
    }
  }
});

test("a training-style step leaves no GPU storage behind", async () => {
  const x0 = randn([32, 10], { generator: new Generator(3) }), y0 = randint(0, 10, [32], { generator: new Generator(4) });
  const step = () => {
    const [loss, grad] = lossAndGrad(x0, y0, "mean", true, "webgpu");
    return Promise.all([loss!.data(), grad!.data()]).then(() => (loss!.dispose(), grad!.dispose()));
  };
  await step();
  const before = gpu!.backend.memory().storages;
  for (let i = 0; i < 3; i++) await step();
  const after = gpu!.backend.memory().storages;
  if (after !== before) throw new Error(`${after - before} GPU storages leaked by three cross-entropy steps`);
  x0.dispose();
  y0.dispose();
});
