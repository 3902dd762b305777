package kernels

import (
	"fmt"
	"testing"
	"time"
)

// benchShapes are the projection shapes of SmolLM2-135M (576 hidden, 1536
// MLP, 49152 vocabulary) and SmolLM2-360M (960 hidden, 2560 MLP).
var benchShapes = []struct{ rows, cols int }{
	{576, 576}, {1536, 576}, {49152, 576}, {960, 960}, {2560, 960},
}

func weightBytes(w *Mat) int64 {
	return int64(4*len(w.F32) + 2*len(w.U16) + len(w.Q8) + 4*len(w.Scales))
}

// benchDTypes are the weight types the matrix benchmarks run.
var benchDTypes = []DType{F32, F16, BF16, Q8}

// benchMat returns a random rows x cols matrix of type dt: Q8 is
// QuantizeQ8 of random float32 weights.
func benchMat(b *testing.B, r *rng, rows, cols int, dt DType) *Mat {
	if dt != Q8 {
		return randMat(r, rows, cols, dt, false)
	}
	src := randMat(r, rows, cols, F32, false)
	q, err := QuantizeQ8(src.Rows, src.Cols, src.RowTo)
	if err != nil {
		b.Fatal(err)
	}
	return &q
}

// BenchmarkMatVec reports weight bytes streamed per second: decode is
// bound by memory bandwidth.
func BenchmarkMatVec(b *testing.B) {
	r := &rng{8}
	for _, dt := range benchDTypes {
		for _, s := range benchShapes {
			w := benchMat(b, r, s.rows, s.cols, dt)
			x := r.vec(s.cols, false)
			y := make([]float32, s.rows)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%dx%d/threads=%d", dt, s.rows, s.cols, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					b.SetBytes(weightBytes(w))
					for b.Loop() {
						MatVec(p, y, w, x)
					}
				})
			}
		}
	}
}

// BenchmarkMatVecGo is the pure-Go reference on one thread, for comparison.
func BenchmarkMatVecGo(b *testing.B) {
	r := &rng{8}
	for _, dt := range benchDTypes {
		w := benchMat(b, r, 1536, 576, dt)
		x := r.vec(576, false)
		y := make([]float32, w.Rows)
		b.Run(fmt.Sprintf("%s/1536x576", dt), func(b *testing.B) {
			b.SetBytes(weightBytes(w))
			for b.Loop() {
				switch dt {
				case F32:
					rowsF32Go(y, w.F32, x)
				case F16:
					rowsF16Go(y, w.U16, x)
				case BF16:
					rowsBF16Go(y, w.U16, x)
				case Q8:
					withoutQ8Asm(func() { MatVec(nil, y, w, x) })
				}
			}
		})
	}
}

// BenchmarkMatMul is prefill of 128 tokens; it reports GFLOP/s (two per
// multiply-add) as well as weight bytes per second.
func BenchmarkMatMul(b *testing.B) {
	const n = 128
	r := &rng{9}
	for _, dt := range benchDTypes {
		for _, s := range benchShapes {
			w := benchMat(b, r, s.rows, s.cols, dt)
			x := r.vec(n*s.cols, false)
			y := make([]float32, n*s.rows)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%dx%d/n=%d/threads=%d", dt, s.rows, s.cols, n, threads), func(b *testing.B) {
					p := NewPool(threads)
					defer p.Close()
					b.SetBytes(weightBytes(w))
					start := time.Now()
					for b.Loop() {
						MatMul(p, y, w, x, n)
					}
					flops := 2 * float64(s.rows) * float64(s.cols) * n * float64(b.N)
					b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkQ8AVX2 is the Q8 MatVec and MatMul (n=128) of a 1536x576
// matrix, one thread, with the AVX2 kernel that CPUs without AVX-512 VNNI
// use.
func BenchmarkQ8AVX2(b *testing.B) {
	r := &rng{12}
	w := benchMat(b, r, 1536, 576, Q8)
	for _, n := range []int{1, 128} {
		x := r.vec(n*576, false)
		y := make([]float32, n*1536)
		b.Run(fmt.Sprintf("1536x576/n=%d", n), func(b *testing.B) {
			b.SetBytes(weightBytes(w))
			start := time.Now()
			withQ8AVX2(func() {
				for b.Loop() {
					MatMul(nil, y, w, x, n)
				}
			})
			b.ReportMetric(2*1536*576*float64(n)*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkAttention is one query head against 1024 cached positions of
// head_dim 64 (a long conversation's decode step): DotRows over the keys,
// then WeightedSum over the values, f32 and f16 caches.
func BenchmarkAttention(b *testing.B) {
	const span, hd = 1024, 64
	r := &rng{13}
	q, w := r.vec(hd, false), r.vec(span, false)
	keys, vals := r.vec(span*hd, false), r.vec(span*hd, false)
	k16, v16 := r.halves(span*hd, F16, false), r.halves(span*hd, F16, false)
	sc, o := make([]float32, span), make([]float32, hd)
	b.Run("f32", func(b *testing.B) {
		b.SetBytes(2 * 4 * span * hd)
		for b.Loop() {
			DotRows(sc, keys, hd, q)
			WeightedSum(o, w, vals, hd)
		}
	})
	b.Run("f16", func(b *testing.B) {
		b.SetBytes(2 * 2 * span * hd)
		for b.Loop() {
			DotRowsF16(sc, k16, hd, q)
			WeightedSumF16(o, w, v16, hd)
		}
	})
}

// BenchmarkQuantizeActs is the Q8 quantization of 128 vectors of 576
// values (a prefill's activations before one projection).
func BenchmarkQuantizeActs(b *testing.B) {
	x := (&rng{14}).vec(128*576, false)
	b.SetBytes(4 * 128 * 576)
	for b.Loop() {
		q8ActsPool.Put(quantizeActs(nil, x, 128, 576))
	}
}

// BenchmarkRoPE rotates one token's 9 heads of 64 (SmolLM2-135M's
// queries).
func BenchmarkRoPE(b *testing.B) {
	x := (&rng{15}).vec(9*64, false)
	cos, sin := make([]float32, 32), make([]float32, 32)
	for i := range cos { // a rotation, so that x keeps its size over b.N calls
		cos[i], sin[i] = float32(Cos(float64(i)/7)), float32(Sin(float64(i)/7))
	}
	b.SetBytes(4 * 9 * 64)
	for b.Loop() {
		RoPE(x, cos, sin, 64)
	}
}

// BenchmarkConvertF16 converts 4096 values each way (an f16 KV cache row
// block is written with F32ToF16).
func BenchmarkConvertF16(b *testing.B) {
	r := &rng{16}
	x, h := r.vec(4096, false), r.halves(4096, F16, false)
	out, outH := make([]float32, 4096), make([]uint16, 4096)
	b.Run("F16ToF32", func(b *testing.B) {
		b.SetBytes(2 * 4096)
		for b.Loop() {
			for i, v := range h {
				out[i] = F16ToF32(v)
			}
		}
	})
	b.Run("F32ToF16", func(b *testing.B) {
		b.SetBytes(4 * 4096)
		for b.Loop() {
			for i, v := range x {
				outH[i] = F32ToF16(v)
			}
		}
	})
}

func BenchmarkDot(b *testing.B) {
	r := &rng{10}
	for _, n := range []int{64, 576, 4096} {
		a, c := r.vec(n, false), r.vec(n, false)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			var s float32
			for b.Loop() {
				s += Dot(a, c)
			}
			_ = s
		})
	}
}

func BenchmarkRMSNorm(b *testing.B) {
	r := &rng{11}
	for _, n := range []int{576, 960} {
		x, w := r.vec(n, false), r.vec(n, false)
		out := make([]float32, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				RMSNorm(out, x, w, 1e-5)
			}
		})
	}
}

func BenchmarkSoftmax(b *testing.B) {
	r := &rng{12}
	for _, n := range []int{1024, 49152} {
		src := r.vec(n, false)
		x := make([]float32, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				copy(x, src)
				Softmax(x)
			}
		})
	}
}

func BenchmarkExp(b *testing.B) {
	x := (&rng{13}).vec(1024, false)
	b.SetBytes(4 * 1024)
	var s float32
	for b.Loop() {
		for _, v := range x {
			s += Exp(v * 10)
		}
	}
	_ = s
}

func BenchmarkSwiGLU(b *testing.B) {
	r := &rng{14}
	gate, up := r.vec(1536, false), r.vec(1536, false)
	out := make([]float32, 1536)
	b.SetBytes(4 * 1536)
	for b.Loop() {
		SwiGLU(out, gate, up)
	}
}

// BenchmarkPoolFor is the fixed cost of one For with an empty body.
func BenchmarkPoolFor(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			fn := func(lo, hi int) {}
			for b.Loop() {
				p.For(64, fn)
			}
		})
	}
}

// BenchmarkDecodeLayer runs the seven projections of one SmolLM2-135M
// layer for one token (q, k, v, o, gate, up, down), the sequence of
// MatVec calls decode makes, to show the pool's per-call cost in context.
func BenchmarkDecodeLayer(b *testing.B) {
	for _, dt := range []DType{F16, Q8} {
		r := &rng{15}
		shapes := []struct{ rows, cols int }{{576, 576}, {192, 576}, {192, 576}, {576, 576}, {1536, 576}, {1536, 576}, {576, 1536}}
		var ws []*Mat
		var bytes int64
		for _, s := range shapes {
			w := benchMat(b, r, s.rows, s.cols, dt)
			ws = append(ws, w)
			bytes += weightBytes(w)
		}
		x := r.vec(1536, false)
		y := make([]float32, 1536)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", dt, threads), func(b *testing.B) {
				p := NewPool(threads)
				defer p.Close()
				b.SetBytes(bytes)
				for b.Loop() {
					for _, w := range ws {
						MatVec(p, y[:w.Rows], w, x[:w.Cols])
					}
				}
			})
		}
	}
}
