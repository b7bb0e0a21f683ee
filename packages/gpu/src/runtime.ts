import { ValueError } from "@backprop/tensor";
import { GpuDeviceLostError, GpuLimitError, GpuValidationError } from "./errors.ts";
import { PARAM_BYTES, type ParamWriter, PRELUDE } from "./params.ts";
import { BufferPool, type PooledBuffer } from "./pool.ts";
import { GpuCounters } from "./stats.ts";
import { BUFFER_COPY_DST, BUFFER_COPY_SRC, BUFFER_MAP_READ, BUFFER_STORAGE, BUFFER_UNIFORM, MAP_READ, STAGE_COMPUTE } from "./usage.ts";

/** A compute kernel: its pipeline-cache key, how many read-only and read-write buffers it binds, its WGSL. */
export interface KernelSpec {
  readonly key: string;
  readonly inputs: number;
  readonly outputs: number;
  /** WGSL after the shared prelude; built only when the pipeline is not cached yet. */
  readonly source: () => string;
}

interface Layout {
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
}

interface Pipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: Layout;
  readonly layoutKey: string;
}

/** The device limits this backend relies on. */
export interface DeviceLimits {
  /** Largest buffer one kernel can bind, in bytes: the largest tensor this device can hold. */
  maxStorageBufferBindingSize: number;
  /** Largest buffer, in bytes. */
  maxBufferSize: number;
  /** Workgroups per dispatch dimension. */
  maxComputeWorkgroupsPerDimension: number;
  /** Workgroup memory per workgroup, in bytes. */
  maxComputeWorkgroupStorageSize: number;
  /** Threads per workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
  /**
   * Storage buffers one kernel may bind (deferred expressions with more leaves run in parts); WebGPU's default
   * and minimum, 8, when absent.
   */
  maxStorageBuffersPerShaderStage?: number;
  /** Alignment of uniform-buffer offsets, in bytes. */
  minUniformBufferOffsetAlignment: number;
}

/** Codes a kernel stores in the device error word (see `errorFlag`). */
export const ERROR_INDEX_OUT_OF_RANGE = 1;
export const ERROR_OPS = ["gather", "scatterAdd", "indexSelect", "indexAdd"] as const;

// Dispatches recorded before the batch is submitted: enough to amortise a submit, few enough that the GPU
// starts working while the CPU is still recording the rest of a training step.
const MAX_DISPATCHES_PER_BATCH = 256;
const MAX_BIND_GROUPS_CACHED = 8192;

/**
 * Owns the device and everything recorded on it. Kernels are recorded into one command encoder (one compute
 * pass, many dispatches) and submitted in batches; their parameter blocks go into one uniform arena written
 * once per batch and bound with dynamic offsets, so bind groups depend only on which buffers a kernel uses and
 * are cached. Pipelines are compiled once per kernel key.
 *
 * Ordering: everything inside a batch runs in recording order, so a buffer released by one kernel can be reused
 * by the next kernel of the same batch. `queue.writeBuffer` runs before the whole pending batch, so uploads into
 * a buffer the pending batch already used go through a staging copy recorded in order instead.
 */
export class GpuRuntime {
  readonly pool: BufferPool;
  #batch = 0;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #dispatches = 0;
  readonly #paramStride: number;
  readonly #arena: Uint32Array;
  #arenaUsed = 0;
  readonly #arenaBuffer: GPUBuffer;
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #layouts = new Map<string, Layout>();
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  readonly #destroyAfterSubmit: GPUBuffer[] = [];
  readonly #errors: string[] = [];
  readonly errorBuffer: PooledBuffer;
  lost: { reason: string; message: string } | null = null;
  /** Pipelines compiled so far (for tests and the bench). */
  compiledPipelines = 0;
  /** Dispatches, copies, submissions and buffers recorded (the backend's `stats()`). */
  readonly counters: GpuCounters = new GpuCounters();

  constructor(readonly device: GPUDevice, readonly limits: DeviceLimits, maxFreeBytes: number) {
    this.pool = new BufferPool(device, limits.maxStorageBufferBindingSize, maxFreeBytes, (b) => this.destroyLater(b), () => {
      this.counters.current.buffersCreated++;
    });
    this.#paramStride = Math.max(PARAM_BYTES, limits.minUniformBufferOffsetAlignment);
    const arenaBytes = this.#paramStride * MAX_DISPATCHES_PER_BATCH;
    this.#arena = new Uint32Array(arenaBytes / 4);
    this.#arenaBuffer = device.createBuffer({ size: arenaBytes, usage: BUFFER_UNIFORM | BUFFER_COPY_DST, label: "params" });
    this.errorBuffer = {
      buffer: device.createBuffer({ size: 16, usage: BUFFER_STORAGE | BUFFER_COPY_SRC | BUFFER_COPY_DST, label: "errors" }),
      id: 0,
      bytes: 16,
      lastBatch: -1,
    };
    device.lost.then((info) => {
      this.lost ??= { reason: String(info.reason ?? "unknown"), message: info.message };
    });
    const onError = (e: Event) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      this.#errors.push(err?.message ?? String(err));
    };
    device.addEventListener?.("uncapturederror", onError);
  }

  /** Destroys the device: its memory is freed at once and every later call throws `GpuDeviceLostError`. */
  destroy(): void {
    this.lost ??= { reason: "destroyed", message: "the backend's destroy() was called" };
    this.device.destroy();
  }

  checkAlive(op: string): void {
    if (this.lost) {
      throw new GpuDeviceLostError(
        `webgpu.${op}: the GPU device was lost (${this.lost.reason}: ${this.lost.message}); ` +
          `arrays on it are gone — initialise WebGPU again and recreate them`,
        this.lost.reason,
      );
    }
  }

  // ---- pipelines ----

  private layout(inputs: number, outputs: number): Layout {
    const key = `${inputs}:${outputs}`;
    let l = this.#layouts.get(key);
    if (l) return l;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: STAGE_COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: PARAM_BYTES } },
    ];
    for (let i = 0; i < inputs + outputs; i++) {
      entries.push({ binding: 1 + i, visibility: STAGE_COMPUTE, buffer: { type: i < inputs ? "read-only-storage" : "storage" } });
    }
    const bindGroupLayout = this.device.createBindGroupLayout({ entries, label: `layout ${key}` });
    const pipelineLayout = this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
    l = { bindGroupLayout, pipelineLayout };
    this.#layouts.set(key, l);
    return l;
  }

  private pipeline(spec: KernelSpec): Pipeline {
    let p = this.#pipelines.get(spec.key);
    if (p) return p;
    const layout = this.layout(spec.inputs, spec.outputs);
    const code = PRELUDE + spec.source();
    const module = this.device.createShaderModule({ code, label: spec.key });
    module.getCompilationInfo?.().then((info) => {
      for (const m of info.messages) {
        if (m.type === "error") this.#errors.push(`${spec.key}: line ${m.lineNum}: ${m.message}`);
      }
    }).catch(() => {});
    const pipeline = this.device.createComputePipeline({
      layout: layout.pipelineLayout,
      compute: { module, entryPoint: "main" },
      label: spec.key,
    });
    this.compiledPipelines++;
    p = { pipeline, layout, layoutKey: `${spec.inputs}:${spec.outputs}` };
    this.#pipelines.set(spec.key, p);
    return p;
  }

  // ---- recording ----

  private encoder(): GPUCommandEncoder {
    return (this.#encoder ??= this.device.createCommandEncoder());
  }

  private endPass(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  private computePass(): GPUComputePassEncoder {
    return (this.#pass ??= this.encoder().beginComputePass());
  }

  private bindGroup(p: Pipeline, buffers: readonly PooledBuffer[]): GPUBindGroup {
    let key = p.layoutKey;
    for (const b of buffers) key += "," + b.id;
    let g = this.#bindGroups.get(key);
    if (g) return g;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.#arenaBuffer, size: PARAM_BYTES } }];
    buffers.forEach((b, i) => entries.push({ binding: 1 + i, resource: { buffer: b.buffer } }));
    g = this.device.createBindGroup({ layout: p.layout.bindGroupLayout, entries });
    if (this.#bindGroups.size >= MAX_BIND_GROUPS_CACHED) this.#bindGroups.clear();
    this.#bindGroups.set(key, g);
    return g;
  }

  /**
   * Records one dispatch. `buffers` are the kernel's inputs then outputs, in binding order; `groups` the
   * workgroup counts (see `grid`).
   */
  dispatch(spec: KernelSpec, buffers: readonly PooledBuffer[], params: ParamWriter, groups: readonly [number, number, number]): void {
    this.checkAlive(spec.key);
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (groups.some((g) => g > max)) {
      throw new GpuLimitError(`webgpu: ${spec.key} needs ${groups.join(" × ")} workgroups; this adapter allows ${max} per dimension`);
    }
    for (const b of buffers) {
      if (b.bytes > this.limits.maxStorageBufferBindingSize) {
        throw new GpuLimitError(
          `webgpu: ${spec.key}: a tensor of ${b.bytes} bytes exceeds this adapter's maxStorageBufferBindingSize ` +
            `(${this.limits.maxStorageBufferBindingSize} bytes)`,
        );
      }
    }
    const p = this.pipeline(spec);
    if (this.#arenaUsed + this.#paramStride > this.#arena.byteLength) this.flush();
    const offset = this.#arenaUsed;
    this.#arena.set(params.words, offset / 4);
    this.#arenaUsed += this.#paramStride;
    const pass = this.computePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, this.bindGroup(p, buffers), [offset]);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.counters.dispatch(spec.key);
    for (const b of buffers) b.lastBatch = this.#batch;
    if (++this.#dispatches >= MAX_DISPATCHES_PER_BATCH) this.flush();
  }

  /** Zero-fills the first `bytes` of `b`, in recording order. */
  clear(b: PooledBuffer, bytes: number): void {
    this.checkAlive("clear");
    if (bytes === 0) return;
    this.endPass();
    this.encoder().clearBuffer(b.buffer, 0, bytes);
    this.counters.current.bufferCopies++;
    b.lastBatch = this.#batch;
  }

  /** Copies `bytes` from `src` to `dst`, in recording order. */
  copy(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, bytes: number): void {
    this.checkAlive("copy");
    if (bytes === 0) return;
    this.endPass();
    this.encoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    this.counters.current.bufferCopies++;
    src.lastBatch = dst.lastBatch = this.#batch;
  }

  /** Writes `data` at the start of `b`, ordered after everything recorded so far. */
  write(b: PooledBuffer, data: ArrayBufferView & { buffer: ArrayBufferLike }): void {
    this.checkAlive("upload");
    const bytes = data.byteLength;
    if (bytes === 0) return;
    const src = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, bytes);
    this.counters.current.uploads++;
    if (b.lastBatch !== this.#batch) {
      // Nothing recorded in this batch touched `b`: writing before the batch runs is the same as writing now.
      this.device.queue.writeBuffer(b.buffer, 0, src);
      return;
    }
    const staging = this.device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: BUFFER_COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(src);
    staging.unmap();
    this.endPass();
    this.encoder().copyBufferToBuffer(staging, 0, b.buffer, 0, bytes);
    this.#destroyAfterSubmit.push(staging);
  }

  /** Destroys `buffer` once the commands recorded so far have been submitted. */
  destroyLater(buffer: GPUBuffer): void {
    if (this.#encoder) this.#destroyAfterSubmit.push(buffer);
    else buffer.destroy();
  }

  /** Submits the recorded batch. */
  flush(): void {
    if (!this.#encoder) return;
    this.endPass();
    if (this.#arenaUsed > 0) {
      this.device.queue.writeBuffer(this.#arenaBuffer, 0, this.#arena.buffer as ArrayBuffer, 0, this.#arenaUsed);
    }
    const commands = this.#encoder.finish();
    this.#encoder = null;
    this.#dispatches = 0;
    this.#arenaUsed = 0;
    this.#batch++;
    this.device.queue.submit([commands]);
    this.counters.current.submissions++;
    for (const b of this.#destroyAfterSubmit.splice(0)) b.destroy();
  }

  /** Resolves when every recorded command has finished on the GPU. */
  async sync(): Promise<void> {
    this.checkAlive("sync");
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwPendingErrors();
  }

  /** Reads `bytes` from the start of `b` (and the device error word with them). */
  async read(b: PooledBuffer, bytes: number): Promise<ArrayBuffer> {
    this.checkAlive("read");
    this.counters.current.reads++;
    const staging = this.device.createBuffer({ size: bytes + 16, usage: BUFFER_MAP_READ | BUFFER_COPY_DST });
    this.endPass();
    const enc = this.encoder();
    if (bytes > 0) enc.copyBufferToBuffer(b.buffer, 0, staging, 0, bytes);
    enc.copyBufferToBuffer(this.errorBuffer.buffer, 0, staging, bytes, 16);
    b.lastBatch = this.#batch;
    this.flush();
    try {
      await staging.mapAsync(MAP_READ);
    } catch (e) {
      this.checkAlive("read");
      throw new GpuValidationError(`read: mapping ${bytes} bytes for reading failed (${e instanceof Error ? e.message : e})`, {
        cause: e,
      });
    }
    const all = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    this.throwPendingErrors();
    this.throwDeviceFlag(new Uint32Array(all, bytes, 4));
    return all.slice(0, bytes);
  }

  private throwPendingErrors(): void {
    if (this.#errors.length === 0) return;
    const messages = this.#errors.splice(0);
    throw new GpuValidationError(`webgpu: the device reported ${messages.length} error(s): ${messages.join("; ")}`);
  }

  /** Kernels cannot throw; they record the first bad index here, and the next read reports it. */
  private throwDeviceFlag(flag: Uint32Array): void {
    if (flag[0] === 0) return;
    const [code, op, value, size] = [flag[0]!, flag[1]!, flag[2]! | 0, flag[3]!];
    this.device.queue.writeBuffer(this.errorBuffer.buffer, 0, new Uint32Array(4));
    if (code === ERROR_INDEX_OUT_OF_RANGE) {
      throw new ValueError(
        `${ERROR_OPS[op] ?? "indexing"}: index ${value} is out of range 0..${size - 1} (found on the device by an ` +
          `earlier operation; its output has zeros there)`,
      );
    }
    throw new GpuValidationError(`webgpu: a kernel reported error code ${code}`);
  }
}

/** Workgroup counts for `groups` workgroups of a 1-D kernel, folded into y when x would pass the limit. */
export function grid(groups: number, maxPerDim: number): [number, number, number] {
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new GpuLimitError(`webgpu: ${groups} workgroups exceed the adapter's dispatch limits`);
  return [maxPerDim, y, 1];
}
