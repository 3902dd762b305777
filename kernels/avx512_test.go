//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"testing"
	"time"
)

// hasAVX512 is whether this machine runs the AVX-512 kernels by default.
var hasAVX512 = useAVX512

// matPaths are the kernel sets MatMul can take on amd64: AVX-512 where the
// CPU has it, and AVX2, which useAVX512 = false forces on such a CPU too.
var matPaths = []struct {
	name   string
	avx512 bool
}{{"avx512", true}, {"avx2", false}}

// onPath runs fn with the kernels of path p, or skips when the CPU lacks
// them. It must not run in parallel with other tests.
func onPath(tb testing.TB, avx512 bool, fn func()) {
	tb.Helper()
	if avx512 && !hasAVX512 {
		tb.Skip("no AVX-512 on this CPU")
	}
	defer func() { useAVX512 = hasAVX512 }()
	useAVX512 = avx512
	fn()
}

// TestMatMulPathsMatchReference compares each amd64 kernel set with the
// pure-Go reference bit for bit: sizes around the eight lanes, the six
// rows and eight vectors of an AVX-512 block, SmolLM2's 576 and 1536, and
// a long odd one; special values in every other case; on one thread and
// on a pool of three, whose chunks start inside the matrix.
func TestMatMulPathsMatchReference(t *testing.T) {
	cols := []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 576, 1536, 4097}
	rows := []int{1, 2, 5, 6, 7, 12, 13, 33}
	ns := []int{2, 3, 4, 5, 6, 7, 8, 9, 17}
	for _, path := range matPaths {
		t.Run(path.name, func(t *testing.T) {
			onPath(t, path.avx512, func() {
				p := NewPool(3)
				defer p.Close()
				r := &rng{16}
				for _, dt := range []DType{F32, F16, BF16} {
					for i, c := range cols {
						for j, nr := range rows {
							for k, n := range ns {
								special := (i+j+k)%2 == 1
								name := fmt.Sprintf("%s/%dx%d/n=%d/special=%v", dt, nr, c, n, special)
								w := randMat(r, nr, c, dt, special)
								x := r.vec(n*c, special)
								pool := (*Pool)(nil)
								if k%2 == 0 {
									pool = p
								}
								buf, y := guarded(n * nr)
								MatMul(pool, y, w, x, n)
								checkGuards(t, buf, n*nr)
								for v := range n {
									for i := range nr {
										want := dotGo(refRow(w, i), x[v*c:(v+1)*c])
										if got := y[v*nr+i]; !sameBits(got, want) {
											t.Fatalf("%s: y[%d][%d] = %v, reference %v", name, v, i, got, want)
										}
									}
								}
							}
						}
					}
				}
			})
		})
	}
}

// BenchmarkMatMulPaths is prefill of 128 vectors at SmolLM2-135M's
// projection shapes on one thread, AVX-512 against AVX2, in GFLOP/s (two
// per multiply-add).
func BenchmarkMatMulPaths(b *testing.B) {
	const n = 128
	r := &rng{17}
	for _, dt := range []DType{F32, F16, BF16} {
		for _, s := range []struct{ rows, cols int }{{576, 576}, {1536, 576}, {576, 1536}} {
			w := randMat(r, s.rows, s.cols, dt, false)
			x := r.vec(n*s.cols, false)
			y := make([]float32, n*s.rows)
			for _, path := range matPaths {
				b.Run(fmt.Sprintf("%s/%dx%d/n=%d/%s", dt, s.rows, s.cols, n, path.name), func(b *testing.B) {
					onPath(b, path.avx512, func() {
						p := NewPool(1)
						defer p.Close()
						start := time.Now()
						for b.Loop() {
							MatMul(p, y, w, x, n)
						}
						flops := 2 * float64(s.rows) * float64(s.cols) * n * float64(b.N)
						b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
					})
				})
			}
		}
	}
}
