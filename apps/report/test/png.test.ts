import { Buffer } from "node:buffer";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, encodePngRgb } from "../src/png.ts";
import { chwToHwc, sampleImageDataUri } from "../src/sample_image.ts";
import { fixtureImage } from "./fixtures.ts";

/** Reads back the chunks of a PNG file, checking each CRC. */
function readPng(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    expect(view.getUint32(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

describe("encodePngRgb", () => {
  it("computes the standard CRC-32", () => {
    expect(crc32(new TextEncoder().encode("IEND"))).toBe(0xae426082);
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("writes a valid PNG whose pixels read back exactly", () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const png = encodePngRgb(3, 2, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks = readPng(png);
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    const ihdr = new DataView(chunks[0].data.buffer, chunks[0].data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), chunks[0].data[8], chunks[0].data[9]]).toEqual([3, 2, 8, 2]);
    const raw = new Uint8Array(inflateSync(chunks[1].data));
    expect([...raw]).toEqual([0, ...rgb.subarray(0, 9), 0, ...rgb.subarray(9)]);
  });

  it("rejects a buffer of the wrong size", () => {
    expect(() => encodePngRgb(2, 2, new Uint8Array(11))).toThrow(/expected 12 bytes for 2×2 RGB, got 11/);
  });
});

describe("sample images", () => {
  it("reorders CHW planes into HWC pixels", () => {
    // 2 channels, 1×2 image: plane 0 = [1, 2], plane 1 = [3, 4].
    expect([...chwToHwc(new Uint8Array([1, 2, 3, 4]), 2, 1, 2)]).toEqual([1, 3, 2, 4]);
  });

  it("makes a 32×32 PNG data URI from base64 CHW pixels", () => {
    const chw = fixtureImage(3);
    const uri = sampleImageDataUri(Buffer.from(chw).toString("base64"));
    expect(typeof uri).toBe("string");
    const png = new Uint8Array(Buffer.from((uri as string).replace("data:image/png;base64,", ""), "base64"));
    const raw = new Uint8Array(inflateSync(readPng(png)[1].data));
    // Pixel (x=5, y=0): R from plane 0, G from plane 1, B from plane 2.
    expect([...raw.subarray(1 + 5 * 3, 1 + 5 * 3 + 3)]).toEqual([chw[5], chw[1024 + 5], chw[2048 + 5]]);
  });

  it("says what is wrong with a short image", () => {
    const result = sampleImageDataUri(Buffer.from([1, 2, 3]).toString("base64"));
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/3 bytes, expected 3072/);
  });
});
