//go:build !amd64 || noasm

package kernels

// Without assembly (another architecture, or the noasm build tag) every
// kernel is its pure-Go reference.

func dotF32(a, b []float32) float32 { return dotGo(a, b) }

func rowsF32(y, w, x []float32)                     { rowsF32Go(y, w, x) }
func rowsF16(y []float32, w []uint16, x []float32)  { rowsF16Go(y, w, x) }
func rowsBF16(y []float32, w []uint16, x []float32) { rowsBF16Go(y, w, x) }

func mulF32(y []float32, ystride int, w, x []float32, rows, n int) {
	mulF32Go(y, ystride, w, x, rows, n)
}

func mulF16(y []float32, ystride int, w []uint16, x []float32, rows, n int) {
	mulF16Go(y, ystride, w, x, rows, n)
}

func mulBF16(y []float32, ystride int, w []uint16, x []float32, rows, n int) {
	mulBF16Go(y, ystride, w, x, rows, n)
}

func q8QuantizeBlocks(a *q8Acts, x []float32, cols, t int) int { return 0 }

func q8Group(y []float32, ystride int, w []uint8, ws []float32, a *q8Acts, t0, nt int) {
	q8GroupGo(y, ystride, w, ws, a, t0, nt)
}

func softmax(x []float32) { softmaxGo(x) }

func softmaxExp(x []float32, m float32) float32 { return softmaxExpGo(x, m) }

func swiglu(out, gate, up []float32) { swigluGo(out, gate, up) }

func dotRowsF32(y, rows []float32, stride int, x []float32) { dotRowsF32Go(y, rows, stride, x) }

func dotRowsF16(y []float32, rows []uint16, stride int, x []float32) {
	dotRowsF16Go(y, rows, stride, x)
}

func rope(x []float32, cos, sin []float32, headDim int) { ropeGo(x, cos, sin, headDim, 0) }

func rmsScale(out, x, weight []float32, inv float32) { rmsScaleGo(out, x, weight, inv) }

func weightedSumF32(dst, w, rows []float32, stride int) { weightedSumF32Go(dst, w, rows, stride, 0) }

func weightedSumF16(dst, w []float32, rows []uint16, stride int) {
	weightedSumF16Go(dst, w, rows, stride, 0)
}
