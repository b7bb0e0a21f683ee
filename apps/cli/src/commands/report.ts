/** `report`: hands over to apps/report. */
export async function reportCommand(runDirs: string[], options: { out: string; gradcheck?: string; pdf: boolean }): Promise<number> {
  const { generateReport } = await import("@backprop/report");
  const result = await generateReport({ runDirs, outDir: options.out, gradcheckJson: options.gradcheck, pdf: options.pdf });
  for (const w of (result as { warnings?: string[] })?.warnings ?? []) console.error(`warning: ${w}`);
  console.log(`report written to ${options.out}`);
  return 0;
}
