/**
 * Binding layout shared by every kernel: 0 = parameter block, then the read-only inputs, then the outputs.
 * `storageDecls` writes the matching WGSL declarations so a kernel's source and its bind group cannot disagree.
 */
export function storageDecls(inputs: readonly [string, string][], outputs: readonly [string, string][]): string {
  const lines: string[] = [];
  let binding = 1;
  for (const [name, type] of inputs) {
    lines.push(`@group(0) @binding(${binding++}) var<storage, read> ${name}: ${type};`);
  }
  for (const [name, type] of outputs) {
    lines.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${name}: ${type};`);
  }
  return lines.join("\n");
}

/** WGSL entry-point header of a 1-D kernel: `i` is the flat invocation index. */
export function entry1d(size: number): string {
  return `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_(wid, nwg, lid, ${size}u);`;
}
