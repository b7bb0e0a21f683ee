import { loadCifar10 } from "@backprop/datasets";
const data = await loadCifar10({ dataDir: "../shared/data/cifar-10-batches-bin" });
const off = data.transform.offset, scale = data.transform.scale;
const raw = data.train.rawImages;
const out = new Float32Array(200 * 3072);
const idx = Int32Array.from({ length: 200 }, (_, i) => i * 7);
function cur() {
  for (let b = 0; b < 200; b++) { const base = idx[b] * 3072, o = b * 3072; for (let p = 0; p < 3072; p++) out[o + p] = (raw[base + p] - off[p]) * scale[p]; }
}
function views() {
  for (let b = 0; b < 200; b++) { const src = raw.subarray(idx[b] * 3072, idx[b] * 3072 + 3072), dst = out.subarray(b * 3072, b * 3072 + 3072); for (let p = 0; p < 3072; p++) dst[p] = (src[p] - off[p]) * scale[p]; }
}
function setThen() {
  for (let b = 0; b < 200; b++) { const dst = out.subarray(b * 3072, b * 3072 + 3072); dst.set(raw.subarray(idx[b] * 3072, idx[b] * 3072 + 3072)); for (let p = 0; p < 3072; p++) dst[p] = (dst[p] - off[p]) * scale[p]; }
}
function setThenNoScale() {
  for (let b = 0; b < 200; b++) { const dst = out.subarray(b * 3072, b * 3072 + 3072); dst.set(raw.subarray(idx[b] * 3072, idx[b] * 3072 + 3072)); for (let p = 0; p < 3072; p++) dst[p] -= off[p]; }
}
const fns = { cur, views, setThen, setThenNoScale };
const ref = new Float32Array(out.length); cur(); ref.set(out);
for (const [n, f] of Object.entries(fns)) { out.fill(0); f(); if (!out.every((v, i) => Object.is(v, ref[i]))) console.log("MISMATCH", n); }
for (let r = 0; r < 4; r++) {
  const line: string[] = [];
  for (const [n, f] of Object.entries(fns)) { const t = performance.now(); for (let i = 0; i < 200; i++) f(); line.push(`${n} ${((performance.now() - t) / 200).toFixed(3)}`); }
  console.log(line.join(", "));
}
