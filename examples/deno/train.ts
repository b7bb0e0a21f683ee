// XOR with a small MLP on the CPU backend (WebAssembly): `deno run train.ts`. deno.json maps the packages to
// JSR; the README shows the maps for npm and for a local checkout.
import { tidy } from "@backprop/tensor";
import { tensor } from "@backprop/autograd";
import { crossEntropy, MLP, SGD } from "@backprop/nn";

const model = new MLP(2, [16], 2);
const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { dtype: "float32" });
const y = tensor([0, 1, 1, 0]);

for (let step = 1; step <= 200; step++) {
  const loss = tidy(() => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.value;
  });
  if (step === 1 || step % 50 === 0) console.log(`step ${step} loss ${(await loss.item()).toFixed(4)}`);
  loss.dispose();
}
