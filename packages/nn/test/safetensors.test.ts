import { afterEach, describe, expect, test } from "vitest";
import { Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import {
  Adam,
  ChecksumError,
  crc32c,
  crc32cHex,
  crossEntropy,
  decodeSafetensors,
  encodeSafetensors,
  flattenOptimizerState,
  loadSafetensorsFile,
  MLP,
  SafetensorsError,
  saveSafetensorsFile,
  StateDictError,
  unflattenOptimizerState,
} from "../src/mod.ts";

const bytesOf = (a: T.NDArray) => {
  const d = a.dataSync();
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
};

/** A file built by hand: 8-byte little-endian header length, JSON header, then the data. */
function handmade(header: string, body: number[] | Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(bytes.subarray(8, 8 + length)) };
}

describe("encodeSafetensors / decodeSafetensors", () => {
  test("round trip is bit-exact for every dtype, including NaN payloads, −0, infinities, scalars and empty arrays", () => {
    const f32 = new Float32Array([1.5, -0, Infinity, -Infinity, 1e-45, 3.4e38]);
    const nanBits = new Uint32Array([0x7fc00001]);
    const tensors = {
      "w.f32": T.tensor(f32, { shape: [2, 3] }),
      "w.nan": T.tensor(new Float32Array(nanBits.buffer)),
      "w.f64": T.tensor(new Float64Array([Math.PI, -5e-324, 1e308])),
      "count": T.zeros([], { dtype: "int32" }).add(7),
      "ints": T.tensor(new Int32Array([-2147483648, 0, 2147483647])),
      "mask": T.tensor([true, false, true]),
      "empty": T.zeros([0, 4]),
    };
    const bytes = encodeSafetensors(tensors, { format: "pt", note: "ünïcode" });
    const { tensors: back, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: "pt", note: "ünïcode" });
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, v] of Object.entries(tensors)) {
      expect(back[k]!.dtype, k).toBe(v.dtype);
      expect(back[k]!.shape, k).toEqual(v.shape);
      expect(bytesOf(back[k]!), k).toEqual(bytesOf(v));
    }
  });

  test("layout: the header is padded with spaces to 8 bytes, keys sorted, and wider dtypes come first so data is aligned", () => {
    const bytes = encodeSafetensors({
      b: T.tensor([1, 2], { dtype: "int32" }),
      a: T.tensor([true]),
      c: T.tensor([0.5], { dtype: "float64" }),
    }, undefined, { checksum: false });
    const { length, text } = headerOf(bytes);
    expect((8 + length) % 8).toBe(0);
    expect(text.trimEnd()).toBe(
      '{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[16,17]},' +
        '"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},' +
        '"c":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}',
    );
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.length).toBe(8 + length + 17);
    expect(Array.from(bytes.subarray(8 + length + 8, 8 + length + 16))).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
  });

  test("reads the format's reference example and the dtypes other writers use", () => {
    const example = handmade(
      '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"foo":"bar"}}',
      new Uint8Array(new Int32Array([1, -2, 3, 4]).buffer),
    );
    const { tensors, metadata } = decodeSafetensors(example);
    expect(metadata).toEqual({ foo: "bar" });
    expect(tensors.test!.toArraySync()).toEqual([[1, -2], [3, 4]]);

    const i64 = new BigInt64Array([-5n, 2147483647n]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]); // 1, −2, 2⁻²⁴, ∞
    const bf16 = new Uint16Array([0x3f80, 0xc0a0]); // 1, −5
    const body = new Uint8Array([
      ...new Uint8Array(i64.buffer), ...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer), 200, 255, 0x80,
    ]);
    const other = decodeSafetensors(handmade(
      '{"i64":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"f16":{"dtype":"F16","shape":[4],"data_offsets":[16,24]},' +
        '"bf16":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},"u8":{"dtype":"U8","shape":[2],"data_offsets":[28,30]},' +
        '"i8":{"dtype":"I8","shape":[1],"data_offsets":[30,31]}}',
      body,
    )).tensors;
    expect(other.i64!.dtype).toBe("int32");
    expect(other.i64!.toArraySync()).toEqual([-5, 2147483647]);
    expect(other.f16!.toArraySync()).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(other.bf16!.toArraySync()).toEqual([1, -5]);
    expect(other.u8!.toArraySync()).toEqual([200, 255]);
    expect(other.i8!.toArraySync()).toEqual([-128]);
  });

  test("malformed files are SafetensorsErrors that name the file and the problem", () => {
    const good = encodeSafetensors({ w: T.tensor([1, 2, 3, 4], { dtype: "float32" }) });
    const decode = (b: Uint8Array) => () => decodeSafetensors(b, { source: "model.safetensors" });
    expect(decode(good.subarray(0, 5))).toThrow(SafetensorsError);
    expect(decode(good.subarray(0, 5))).toThrow(/^model\.safetensors: truncated: 5 bytes, fewer than the 8-byte header length$/);
    expect(decode(good.subarray(0, 20))).toThrow(/truncated: the header needs \d+ bytes, only 12 follow the length/);
    expect(decode(good.subarray(0, good.length - 3))).toThrow(/truncated: the header describes 16 bytes of tensor data, the file holds 13/);
    expect(decode(new Uint8Array([...good, 0, 0]))).toThrow(/2 bytes follow the last tensor's data/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(decode(huge)).toThrow(/header length 1099511627776 exceeds/);
    const cases: [string, number[], RegExp][] = [
      ["{not json", [], /not valid UTF-8 JSON/],
      ["[1, 2]", [], /not a JSON object/],
      ['{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}', [0], /dtype "F8"; readable: F64, F32/],
      ['{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', [0, 0, 0, 0], /invalid shape \[-1\]/],
      ['{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0], /F32 \[2\]\) needs 8 bytes, its data_offsets span 4/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', [0, 0, 0, 0], /invalid data_offsets \[4,0\]/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0], /overlaps/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [0, 0, 0, 0, 0, 0, 0, 0], /a gap of 4 bytes precedes tensor "a"/],
      ['{"__metadata__":{"n":1}}', [], /metadata "n" is not a string/],
      ['{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [0, 0, 0, 0, 1, 0, 0, 0], /holds 4294967296, which does not fit int32/],
    ];
    for (const [header, body, message] of cases) expect(decode(handmade(header, body)), header).toThrow(message);
    expect(() => encodeSafetensors({ __metadata__: T.zeros([1]) })).toThrow(/cannot name a tensor/);
  });
});

describe("checksums", () => {
  const ascii = (s: string) => new TextEncoder().encode(s);

  test("CRC-32C matches the published check values (RFC 3720 B.4, the CRC catalogue) in one piece and in parts", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32cHex(ascii("a"))).toBe("c1d04330");
    // Continuing over pieces of every length (the 8-byte main loop and the byte-wise tail).
    const data = Uint8Array.from({ length: 77 }, (_, i) => (i * 37 + 11) & 0xff);
    for (let cut = 0; cut <= data.length; cut++) {
      expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(crc32c(data));
    }
  });

  const tensors = () => ({
    "layers.0.weight": T.randn([6, 5], { generator: new T.Generator(4) }),
    "layers.0.bias": T.tensor([1, 2, 3, 4, 5, 6], { dtype: "float64" }),
    steps: T.tensor([7], { dtype: "int32" }),
  });

  test("every tensor and the metadata carry a CRC-32C that PyTorch's loader ignores (string metadata) and decoding checks", () => {
    const bytes = encodeSafetensors(tensors(), { format: "pt" });
    const header = JSON.parse(headerOf(bytes).text);
    expect(typeof header.__metadata__.crc32c).toBe("string");
    expect(Object.keys(JSON.parse(header.__metadata__.crc32c)).sort()).toEqual(["__metadata__", "layers.0.bias", "layers.0.weight", "steps"]);
    const back = decodeSafetensors(bytes);
    expect(back.checksum).toBe("verified");
    expect(back.metadata).toEqual({ format: "pt" });
    expect(decodeSafetensors(bytes, { verify: false }).checksum).toBe("skipped");
    expect(decodeSafetensors(encodeSafetensors(tensors(), { format: "pt" }, { checksum: false })).checksum).toBe("absent");
    expect(() => encodeSafetensors(tensors(), { crc32c: "mine" })).toThrow(/"crc32c" is where the checksums go/);
  });

  test("a flipped bit anywhere in the tensor data is a ChecksumError naming the file and the tensor", () => {
    const bytes = encodeSafetensors(tensors(), { step: "3" });
    const { length } = headerOf(bytes);
    const { tensors: layout } = { tensors: JSON.parse(headerOf(bytes).text) as Record<string, { data_offsets: [number, number] }> };
    let detected = 0;
    for (let at = 8 + length; at < bytes.length; at++) {
      for (const bit of [0, 3, 7]) {
        const bad = bytes.slice();
        bad[at]! ^= 1 << bit;
        const offset = at - 8 - length;
        const name = Object.keys(layout).find((k) => k !== "__metadata__" && layout[k]!.data_offsets[0] <= offset && offset < layout[k]!.data_offsets[1])!;
        let error: unknown;
        try {
          decodeSafetensors(bad, { source: "run/checkpoint.safetensors" });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ChecksumError);
        expect((error as ChecksumError).tensor).toBe(name);
        expect((error as Error).message).toMatch(new RegExp(`^run/checkpoint\\.safetensors: tensor "${name.replace(/\./g, "\\.")}" fails its checksum: CRC-32C [0-9a-f]{8} recorded, [0-9a-f]{8} found`));
        detected++;
      }
    }
    expect(detected).toBe(3 * (30 * 4 + 6 * 8 + 4));
  });

  test("changed metadata, a damaged or incomplete checksum list are refused too", () => {
    const bytes = encodeSafetensors(tensors(), { step: "3" });
    const text = headerOf(bytes).text;
    const edited = (from: string, to: string) => {
      expect(text.includes(from), from).toBe(true);
      return handmade(text.replace(from, to), bytes.subarray(8 + headerOf(bytes).length));
    };
    expect(() => decodeSafetensors(edited('"step":"3"', '"step":"4"'))).toThrow(/the metadata fails its checksum/);
    expect(() => decodeSafetensors(edited('"step":"3"', '"step":"4"'))).toThrow(ChecksumError);
    expect(() => decodeSafetensors(edited('\\"steps\\":\\"', '\\"stepz\\":\\"'))).toThrow(/tensor "steps" has no checksum/);
    expect(() => decodeSafetensors(edited('\\"steps\\":\\"', '\\"steps\\":\\"x'))).toThrow(/not 8 hex digits/);
    expect(() => decodeSafetensors(edited('"crc32c":"{', '"crc32c":"['))).toThrow(/"crc32c" is not/);
  });
});

describe("state dicts through safetensors", () => {
  const data = () => ({
    x: new Tensor(T.randn([16, 6], { generator: new T.Generator(1) })),
    y: T.randint(0, 3, [16], { generator: new T.Generator(2) }),
  });

  test("a trained model's state (parameters and batch-norm buffers) round-trips bit for bit", () => {
    const { x, y } = data();
    const model = new MLP(6, [8, 5], 3, { batchNorm: "builtin", generator: new T.Generator(3) });
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    for (let i = 0; i < 5; i++) {
      T.tidy(() => {
        opt.zeroGrad();
        crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
    }
    const bytes = encodeSafetensors(model.stateDict(), { format: "pt" });
    const copy = new MLP(6, [8, 5], 3, { batchNorm: "builtin", generator: new T.Generator(99) });
    copy.loadStateDict(decodeSafetensors(bytes).tensors);
    const original = model.stateDict(), loaded = copy.stateDict();
    expect(Object.keys(loaded)).toEqual(Object.keys(original));
    for (const k of Object.keys(original)) expect(bytesOf(loaded[k]!), k).toEqual(bytesOf(original[k]!));
    expect(bytesOf(loaded["layers.1.num_batches_tracked"]!)).toEqual([5, 0, 0, 0]);
    model.eval();
    copy.eval();
    expect(bytesOf(copy.forward(x).value)).toEqual(bytesOf(model.forward(x).value));
  });

  test("model and optimizer checkpoint in one file resumes bit for bit", () => {
    const { x, y } = data();
    const step = (m: MLP, o: Adam) =>
      T.tidy(() => {
        o.zeroGrad();
        crossEntropy(m.forward(x), y).backward();
        o.step();
      });
    const a = new MLP(6, [8], 3, { generator: new T.Generator(4) });
    const optA = new Adam(a.parameters(), { lr: 0.01 });
    for (let i = 0; i < 3; i++) step(a, optA);
    const flat = flattenOptimizerState(optA.stateDict());
    const bytes = encodeSafetensors({ ...a.stateDict(), ...flat.arrays }, { optimizer: JSON.stringify(flat.json) });

    const { tensors, metadata } = decodeSafetensors(bytes);
    const b = new MLP(6, [8], 3, { generator: new T.Generator(5) });
    const optB = new Adam(b.parameters());
    const modelState = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith("optimizer.")));
    b.loadStateDict(modelState);
    optB.loadStateDict(unflattenOptimizerState(tensors, JSON.parse(metadata.optimizer!)));
    for (let i = 0; i < 3; i++) {
      step(a, optA);
      step(b, optB);
    }
    for (const [k, v] of Object.entries(a.stateDict())) expect(bytesOf(b.stateDict()[k]!), k).toEqual(bytesOf(v));
  });

  test("loading a file with missing or extra keys or wrong shapes is a clear error", () => {
    const bytes = encodeSafetensors(new MLP(6, [8], 3).stateDict());
    const { tensors } = decodeSafetensors(bytes);
    expect(() => new MLP(6, [8, 4], 3).loadStateDict(tensors)).toThrow(StateDictError);
    expect(() => new MLP(6, [8, 4], 3).loadStateDict(tensors)).toThrow(/missing keys \(2\): "layers.4.weight", "layers.4.bias"/);
    expect(() => new MLP(6, [9], 3).loadStateDict(tensors)).toThrow(/shape mismatch for "layers.0.weight": the state has \[8, 6\], the module \[9, 6\]/);
    // With batch norm the layer indices shift: both directions are listed.
    expect(() => new MLP(6, [8], 3, { batchNorm: "manual" }).loadStateDict(tensors)).toThrow(
      /missing keys \(4\): "layers.1.gamma", "layers.1.beta", "layers.3.weight", "layers.3.bias"\n {2}unexpected keys \(2\): "layers.2.bias", "layers.2.weight"/,
    );
  });
});

describe("saveSafetensorsFile / loadSafetensorsFile", () => {
  const g = globalThis as { Deno?: unknown };
  const hadDeno = "Deno" in g;
  afterEach(() => {
    if (!hadDeno) delete g.Deno;
  });

  /** The few Deno file functions the helpers use, over an in-memory file system. */
  function fakeDeno(files: Map<string, Uint8Array>, failWrite = false, synced: string[] = []) {
    g.Deno = {
      pid: 4242,
      open: (p: string, o: { createNew?: boolean }) => {
        if (o.createNew && files.has(p)) return Promise.reject(new Error(`${p}: exists`));
        if (o.createNew) files.set(p, new Uint8Array(0));
        return Promise.resolve({
          write: (d: Uint8Array) => {
            const n = failWrite ? 3 : d.length;
            files.set(p, new Uint8Array([...files.get(p)!, ...d.subarray(0, n)]));
            return failWrite ? Promise.reject(new Error("disk full")) : Promise.resolve(n);
          },
          sync: () => {
            synced.push(p);
            return Promise.resolve();
          },
          close: () => {},
        });
      },
      readFile: (p: string) => {
        const d = files.get(p);
        return d ? Promise.resolve(d.slice()) : Promise.reject(new Error(`${p}: no such file`));
      },
      rename: (a: string, b: string) => {
        files.set(b, files.get(a)!);
        files.delete(a);
        return Promise.resolve();
      },
      remove: (p: string) => {
        files.delete(p);
        return Promise.resolve();
      },
    };
  }

  test("writes atomically and durably (temp file, sync, rename, sync the folder) and reads back; a failed write leaves the old file and no temp file", async () => {
    if (hadDeno) return; // under Deno the real file system is used by the CLI
    const files = new Map<string, Uint8Array>();
    const path = "runs/model.safetensors";
    const synced: string[] = [];
    fakeDeno(files, false, synced);
    await saveSafetensorsFile(path, { w: T.tensor([1, 2, 3], { dtype: "float32" }) }, { step: "1" });
    expect([...files.keys()]).toEqual([path]);
    expect(synced).toEqual([expect.stringMatching(/^runs\/model\.safetensors\.4242\.\d+\.tmp$/), "runs"]);
    expect((await loadSafetensorsFile(path)).checksum).toBe("verified");
    const loaded = await loadSafetensorsFile(path);
    expect(loaded.tensors.w!.toArraySync()).toEqual([1, 2, 3]);
    expect(loaded.metadata).toEqual({ step: "1" });
    fakeDeno(files, true);
    const failed = saveSafetensorsFile(path, { w: T.tensor([9], { dtype: "float32" }) });
    await expect(failed).rejects.toThrow(SafetensorsError);
    await expect(failed).rejects.toThrow(`saveSafetensorsFile: cannot write ${path} (disk full)`);
    expect([...files.keys()]).toEqual([path]);
    expect((await loadSafetensorsFile(path)).tensors.w!.toArraySync()).toEqual([1, 2, 3]);
    files.set(path, new Uint8Array(4));
    await expect(loadSafetensorsFile(path)).rejects.toThrow(`${path}: truncated: 4 bytes`);
  });

  test("without Deno the helpers say what to do instead", async () => {
    if (hadDeno) return;
    await expect(loadSafetensorsFile("x.safetensors")).rejects.toThrow(/file access needs Deno/);
  });
});
