// Numeric values of the WebGPU flag constants. The globals (`GPUBufferUsage`, `GPUMapMode`, `GPUShaderStage`)
// are absent in some runtimes (Node with the `webgpu` package unless its globals are installed), the numbers
// are fixed by the specification.
export const BUFFER_MAP_READ = 0x0001;
export const BUFFER_COPY_SRC = 0x0004;
export const BUFFER_COPY_DST = 0x0008;
export const BUFFER_UNIFORM = 0x0040;
export const BUFFER_STORAGE = 0x0080;
export const MAP_READ = 0x0001;
export const STAGE_COMPUTE = 0x4;
