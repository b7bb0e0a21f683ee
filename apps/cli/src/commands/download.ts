import { defaultCacheDir, downloadCifar10 } from "@backprop/datasets";

/** `download`: fetches the official archive into the cache, verifying size and sha256, with a progress line. */
export async function downloadCommand(options: { cacheDir?: string }): Promise<number> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  let last = 0;
  const path = await downloadCifar10({
    cacheDir,
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 200 && p.bytes !== p.total) return;
      last = now;
      const pct = p.total ? ((100 * p.bytes) / p.total).toFixed(1) : "?";
      process.stdout.write(`\r${(p.bytes / 1e6).toFixed(1)} / ${((p.total ?? 0) / 1e6).toFixed(1)} MB (${pct}%) ${(p.rate / 1e6).toFixed(1)} MB/s   `);
    },
  });
  process.stdout.write("\n");
  console.log(`CIFAR-10 is in ${path}`);
  return 0;
}
