// Where the report expects Chromium (Debian's `chromium` package) and the flags it runs it with: headless,
// and quiet on the network, since the page it opens is self-contained.
import { access, constants } from "node:fs/promises";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Whether Chromium is installed and executable at `path`. */
export async function chromiumAvailable(path = CHROMIUM_PATH): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
