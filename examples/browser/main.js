// Trains a small MLP on XOR on the CPU backend (WebAssembly), then on WebGPU when the browser offers an adapter.
// The losses are shown on the page and kept in `globalThis.backpropResult` ({ cpu, webgpu } loss lists, or
// `webgpu: null` with `webgpuSkipped` saying why), which the examples' test reads.
import { tidy } from "@backprop/tensor";
import { tensor } from "@backprop/autograd";
import { crossEntropy, MLP, SGD } from "@backprop/nn";
import { initWebGPU } from "@backprop/gpu";

const log = document.getElementById("log");
const print = (line) => {
  log.textContent += line + "\n";
  console.log(line);
};

async function train(device) {
  const model = new MLP(2, [16], 2).to(device);
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { dtype: "float32", device });
  const y = tensor([0, 1, 1, 0], { device });
  const losses = [];
  for (let step = 1; step <= 200; step++) {
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(x), y);
      loss.backward();
      optimizer.step();
      return loss.value;
    });
    // Reading a value back waits for the device: only now and then.
    if (step === 1 || step % 50 === 0) {
      losses.push(await loss.item());
      print(`${device} step ${step} loss ${losses.at(-1).toFixed(4)}`);
    }
    loss.dispose();
  }
  return losses;
}

const result = { cpu: await train("cpu"), webgpu: null, webgpuSkipped: "" };
const adapter = await navigator.gpu?.requestAdapter();
if (adapter) {
  const { adapter: info } = await initWebGPU();
  print(`WebGPU adapter: ${info.description || info.device || info.vendor}`);
  result.webgpu = await train("webgpu");
} else {
  result.webgpuSkipped = navigator.gpu ? "the browser offers no WebGPU adapter" : "this browser has no WebGPU";
  print(`webgpu skipped: ${result.webgpuSkipped}`);
}
globalThis.backpropResult = result;
