/** `report`: hands over to apps/report, which prints what it wrote or each run path it could not read. */
export async function reportCommand(
  runDirs: string[],
  options: { out: string; gradcheck?: string; pdf: boolean; partial?: boolean },
): Promise<number> {
  const { runReport } = await import("@backprop/report");
  return await runReport({
    runDirs,
    outDir: options.out,
    gradcheckJson: options.gradcheck,
    pdf: options.pdf,
    partial: options.partial ?? false,
  });
}
