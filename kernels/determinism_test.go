package kernels

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/determinism.sha256 with this build's hash")

// determinismHash runs every kernel on fixed inputs (special values
// included) and hashes the output bits, all NaNs counted as one.
func determinismHash() string {
	h := sha256.New()
	put := func(vs ...float32) {
		var b [4]byte
		for _, v := range vs {
			bits := math.Float32bits(v)
			if v != v {
				bits = 0x7fc00000
			}
			binary.LittleEndian.PutUint32(b[:], bits)
			h.Write(b[:])
		}
	}
	put64 := func(v float64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	for b := uint64(0); b < 1<<32; b += 4093 {
		put(Exp(math.Float32frombits(uint32(b))), SiLU(math.Float32frombits(uint32(b))))
	}
	for _, x := range trigInputs() {
		put64(Sin(x))
		put64(Cos(x))
	}
	for i := range 20000 {
		x := float64(i) * 83.17
		put64(Sin(x))
		put64(Cos(x))
	}
	r := &rng{7}
	for _, n := range testCols {
		a, b := r.vec(n, true), r.vec(n, false)
		put(Dot(a, b))
		out := make([]float32, n)
		RMSNorm(out, b, a, 1e-5)
		put(out...)
		SwiGLU(out, a, b)
		put(out...)
		Softmax(b)
		put(b...)
	}
	x := r.vec(3*64, false)
	cos, sin := r.vec(32, false), r.vec(32, false)
	RoPE(x, cos, sin, 64)
	put(x...)
	p := NewPool(3)
	defer p.Close()
	for _, dt := range []DType{F32, F16, BF16} {
		for _, special := range []bool{false, true} {
			w := randMat(r, 37, 203, dt, special)
			x := r.vec(5*203, special)
			y := make([]float32, 5*37)
			MatMul(p, y, w, x, 5)
			put(y...)
			MatVec(nil, y[:37], w, x[:203])
			put(y[:37]...)
		}
	}
	for _, special := range []bool{false, true} {
		w := randQ8(r, 37, 203, special)
		if !special {
			src := randMat(r, 37, 203, F32, false)
			q, err := QuantizeQ8(src.Rows, src.Cols, src.RowTo)
			if err != nil {
				panic(err)
			}
			w = &q
		}
		x := r.vec(5*203, special)
		y := make([]float32, 5*37)
		MatMul(p, y, w, x, 5)
		put(y...)
		MatVec(nil, y[:37], w, x[:203])
		put(y[:37]...)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDeterminismHash checks that this build computes exactly the same bits
// as the build that wrote testdata/determinism.sha256. The hash is not a
// correctness reference (the accuracy and torch tests are); it pins the
// bits so that every build must agree: `go test`, `go test -tags noasm`,
// `GOAMD64=v1 go test` and `GOAMD64=v3 go test` (where the compiler could
// fuse multiply-adds if the code let it), and other architectures.
func TestDeterminismHash(t *testing.T) {
	got := determinismHash()
	t.Logf("determinism hash %s (assembly in use: %v)", got, asmInUse())
	const path = "testdata/determinism.sha256"
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got+"\n"), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(want)), got)
}
