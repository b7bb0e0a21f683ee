import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DatasetError, readTar } from "../src/mod.ts";
import { chunkedStream, makeTar, type TarMember } from "./helpers.ts";

async function collect(stream: ReadableStream<Uint8Array>, readBodies = true) {
  const out: { name: string; type: string; size: number; text?: string }[] = [];
  for await (const entry of readTar(stream, "test.tar")) {
    const text = readBodies ? new TextDecoder().decode(await entry.bytes()) : undefined;
    out.push({ name: entry.name, type: entry.type, size: entry.size, text });
  }
  return out;
}

const members: TarMember[] = [
  { name: "dir/", type: "5" },
  { name: "dir/a.txt", data: "hello" },
  { name: "dir/empty", data: "" },
  { name: "dir/block.bin", data: "x".repeat(512) },
  { name: "dir/" + "long-".repeat(30) + "gnu.txt", data: "gnu long name", longName: "gnu" },
  { name: "dir/" + "long-".repeat(30) + "pax.txt", data: "pax path", longName: "pax" },
  { name: "dir/big.txt", data: "y".repeat(1500) },
];

describe("readTar", () => {
  test("reads names, types and contents, including GNU and pax long names", async () => {
    const entries = await collect(chunkedStream(makeTar(members), [100000]));
    expect(entries.map((e) => e.name)).toEqual(members.map((m) => m.name));
    expect(entries[0].type).toBe("directory");
    expect(entries[1]).toMatchObject({ type: "file", size: 5, text: "hello" });
    expect(entries[2].text).toBe("");
    expect(entries[3].text).toBe("x".repeat(512));
    expect(entries[4].text).toBe("gnu long name");
    expect(entries[5].text).toBe("pax path");
    expect(entries[6].text).toBe("y".repeat(1500));
  });

  test("gives the same entries whatever the chunking of the stream", async () => {
    const archive = makeTar(members);
    const expected = await collect(chunkedStream(archive, [archive.length]));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 1200 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        expect(await collect(chunkedStream(archive, sizes))).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  test("skips bodies the consumer does not read", async () => {
    const entries = await collect(chunkedStream(makeTar(members), [333]), false);
    expect(entries.map((e) => e.name)).toEqual(members.map((m) => m.name));
  });

  test("a body read in chunks matches the whole", async () => {
    const data = new Uint8Array(5000).map((_, i) => i % 251);
    for await (const entry of readTar(chunkedStream(makeTar([{ name: "f", data }]), [77]))) {
      const parts: Uint8Array[] = [];
      for await (const chunk of entry.body()) parts.push(chunk.slice());
      expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
    }
  });

  test("an archive cut inside a member names the member and the byte counts", async () => {
    const archive = makeTar([{ name: "dir/a.bin", data: new Uint8Array(3000) }]);
    const error = await collect(chunkedStream(archive.subarray(0, 512 + 1000), [256])).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.file).toBe("test.tar");
    expect(error.message).toMatch(/ends inside dir\/a\.bin: expected 3000 bytes, got 1000/);
  });

  test("an archive cut while the consumer skips a member is reported too", async () => {
    const archive = makeTar([{ name: "a.bin", data: new Uint8Array(3000) }]);
    const error = await collect(chunkedStream(archive.subarray(0, 512 + 1000), [256]), false).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(/ends inside a\.bin/);
  });

  test("an archive without its end-of-archive marker is truncated", async () => {
    const archive = makeTar([{ name: "a.txt", data: "abc" }], false);
    const error = await collect(chunkedStream(archive, [512])).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(/without an end-of-archive marker .* truncated/);
  });

  test("a corrupt header fails its checksum", async () => {
    const archive = makeTar([{ name: "a.txt", data: "abc" }]);
    archive[10] ^= 0x41;
    const error = await collect(chunkedStream(archive, [4096])).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(/header at byte 0 has checksum \d+ but its bytes sum to \d+/);
  });

  test("data that is not a tar archive is rejected", async () => {
    const error = await collect(chunkedStream(new TextEncoder().encode("x".repeat(2000)), [4096])).catch((e) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(/corrupt or not a tar file/);
  });
});
