import { expect, test } from "vitest";
import { VERSION } from "../src/mod.ts";
test("v", () => expect(VERSION).toBe("0.1.0"));
