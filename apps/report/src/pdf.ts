// Prints the HTML report to PDF with the installed Chromium, driven by playwright-core (which never downloads
// a browser of its own).
import { rename, rm } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.ts";
import { tempPathFor } from "./write_atomic.ts";

export async function printPdf(htmlPath: string, pdfPath: string, executablePath = CHROMIUM_PATH): Promise<void> {
  const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
  const temp = tempPathFor(pdfPath);
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });
    await page.pdf({
      path: temp,
      format: "A4",
      printBackground: true,
      margin: { top: "14mm", bottom: "14mm", left: "12mm", right: "12mm" },
    });
    await rename(temp, pdfPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await browser.close();
  }
}
