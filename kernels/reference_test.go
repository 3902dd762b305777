package kernels

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// torchReference is testdata/torch_reference.json, written by
// testdata/reference.py from PyTorch and transformers. Floats are uint32
// bit patterns.
type torchReference struct {
	Torch      string `json:"torch"`
	F16SHA256  string `json:"f16_sha256"`
	BF16SHA256 string `json:"bf16_sha256"`
	RMSNorm    []struct {
		Eps    uint32   `json:"eps"`
		X      []uint32 `json:"x"`
		Weight []uint32 `json:"weight"`
		Out    []uint32 `json:"out"`
	} `json:"rmsnorm"`
	SiLU struct {
		X   []uint32 `json:"x"`
		Out []uint32 `json:"out"`
	} `json:"silu"`
	SwiGLU struct {
		Gate []uint32 `json:"gate"`
		Up   []uint32 `json:"up"`
		Out  []uint32 `json:"out"`
	} `json:"swiglu"`
	Softmax []struct {
		X   []uint32 `json:"x"`
		Out []uint32 `json:"out"`
	} `json:"softmax"`
	RoPE []struct {
		HeadDim int      `json:"head_dim"`
		X       []uint32 `json:"x"`
		Cos     []uint32 `json:"cos"`
		Sin     []uint32 `json:"sin"`
		Out     []uint32 `json:"out"`
	} `json:"rope"`
}

func loadTorchReference(t *testing.T) *torchReference {
	t.Helper()
	data, err := os.ReadFile("testdata/torch_reference.json")
	require.NoError(t, err)
	var ref torchReference
	require.NoError(t, json.Unmarshal(data, &ref))
	require.NotEmpty(t, ref.RMSNorm)
	return &ref
}

func floats(bits []uint32) []float32 {
	v := make([]float32, len(bits))
	for i, b := range bits {
		v[i] = math.Float32frombits(b)
	}
	return v
}

// assertClose checks every element of got within maxULP of want (NaN
// matching NaN) and reports the worst difference.
func assertClose(t *testing.T, name string, got []float32, want []uint32, maxULP float64) {
	t.Helper()
	require.Len(t, got, len(want), name)
	worst := 0.0
	for i, w := range floats(want) {
		d := ulpDiff(got[i], float64(w))
		if d > maxULP {
			t.Errorf("%s[%d] = %v (%#x), torch %v (%#x): %.1f ulp", name, i, got[i], math.Float32bits(got[i]), w, want[i], d)
			return
		}
		worst = max(worst, d)
	}
	t.Logf("%s: worst %.2f ulp from torch over %d values", name, worst, len(want))
}

// TestConversionsMatchTorch converts all 65536 patterns and compares the
// SHA-256 of the float32 bits with torch's .to(torch.float32).
func TestConversionsMatchTorch(t *testing.T) {
	ref := loadTorchReference(t)
	for _, tc := range []struct {
		name string
		conv func(uint16) float32
		want string
	}{
		{"F16ToF32", F16ToF32, ref.F16SHA256},
		{"BF16ToF32", BF16ToF32, ref.BF16SHA256},
	} {
		buf := make([]byte, 4*65536)
		for h := range 65536 {
			binary.LittleEndian.PutUint32(buf[4*h:], math.Float32bits(tc.conv(uint16(h))))
		}
		sum := sha256.Sum256(buf)
		assert.Equal(t, tc.want, hex.EncodeToString(sum[:]), tc.name)
	}
}

func TestRMSNormMatchesTorch(t *testing.T) {
	for i, c := range loadTorchReference(t).RMSNorm {
		x := floats(c.X)
		buf, out := guarded(len(x))
		RMSNorm(out, x, floats(c.Weight), math.Float32frombits(c.Eps))
		checkGuards(t, buf, len(x))
		// torch sums the squares in its own order; the mean may differ in
		// the last bit, which moves each output by at most about 2 ulp.
		assertClose(t, "rmsnorm"+string(rune('0'+i)), out, c.Out, 3)
		RMSNorm(x, x, floats(c.Weight), math.Float32frombits(c.Eps))
		assert.Equal(t, bitsOf(out), bitsOf(x), "in place")
	}
}

func TestSiLUSwiGLUMatchTorch(t *testing.T) {
	ref := loadTorchReference(t)
	x := floats(ref.SiLU.X)
	got := make([]float32, len(x))
	for i, v := range x {
		got[i] = SiLU(v)
	}
	// Our Exp and torch's each err by under an ulp; the division adds half.
	assertClose(t, "silu", got, ref.SiLU.Out, 2)
	s := ref.SwiGLU
	buf, out := guarded(len(s.Gate))
	SwiGLU(out, floats(s.Gate), floats(s.Up))
	checkGuards(t, buf, len(s.Gate))
	assertClose(t, "swiglu", out, s.Out, 3)
}

func TestSoftmaxMatchesTorch(t *testing.T) {
	for _, c := range loadTorchReference(t).Softmax {
		x := floats(c.X)
		Softmax(x)
		// Exp errors (ours and torch's) plus a sum in another order.
		assertClose(t, "softmax", x, c.Out, 4)
	}
}

// TestRoPEMatchesTorch expects identical bits: apply_rotary_pos_emb rounds
// every product and sum separately, exactly as RoPE does.
func TestRoPEMatchesTorch(t *testing.T) {
	for _, c := range loadTorchReference(t).RoPE {
		x := floats(c.X)
		RoPE(x, floats(c.Cos), floats(c.Sin), c.HeadDim)
		assert.Equal(t, c.Out, bitsOf(x), "head_dim %d", c.HeadDim)
	}
}
