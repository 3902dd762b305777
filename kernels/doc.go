// Package kernels holds Loom's CPU compute kernels: the canonical dot
// product, matrix-vector and matrix-matrix products over f32, f16, bf16
// and Q8 (8-bit blocks, quantized at load) weights, RMSNorm, RoPE,
// softmax, SiLU/SwiGLU, deterministic scalar math (Exp, Sin, Cos), exact
// 16-bit float conversions and a worker pool.
//
// Every kernel produces the same bits on every platform, build and thread
// count. The rules that make this true are in DETERMINISM.md; the central
// one is the canonical dot product (see Dot), which the pure-Go reference
// and the amd64 AVX2 assembly both compute exactly.
//
// Shapes are a contract between Loom's own packages, not input from
// outside: the functions here have no error results, so a slice whose length
// does not match the shape it is used with is a programming error and panics
// with a message naming the kernel. Callers validate shapes read from files
// (see Mat.Validate) before calling.
package kernels
