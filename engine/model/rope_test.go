package model

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/config"
)

// ropeReference is testdata/rope.json, written by rope_reference.py from
// transformers' LlamaRotaryEmbedding (see the script for each field).
type ropeReference struct {
	Positions []int `json:"positions"`
	Cases     map[string]struct {
		RopeTheta   float64 `json:"rope_theta"`
		HeadDim     int     `json:"head_dim"`
		RopeScaling *struct {
			RopeType                      string  `json:"rope_type"`
			Factor                        float64 `json:"factor"`
			LowFreqFactor                 float64 `json:"low_freq_factor"`
			HighFreqFactor                float64 `json:"high_freq_factor"`
			OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
		} `json:"rope_scaling"`
		InvFreq        []uint32 `json:"inv_freq"`
		InvFreqDefault []uint32 `json:"inv_freq_default"`
		InvFreqExact   []uint32 `json:"inv_freq_exact"`
		Cos            []uint32 `json:"cos"`
		Sin            []uint32 `json:"sin"`
		CosExact       []uint32 `json:"cos_exact"`
		SinExact       []uint32 `json:"sin_exact"`
	} `json:"cases"`
}

// ulps returns the distance in units in the last place between two
// float32 values of the same sign, given as bits.
func ulps(a, b uint32) int64 {
	d := int64(a) - int64(b)
	if d < 0 {
		d = -d
	}
	return d
}

func bitsOf(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, f := range v {
		out[i] = math.Float32bits(f)
	}
	return out
}

func floatsOf(b []uint32) []float32 {
	out := make([]float32, len(b))
	for i, u := range b {
		out[i] = math.Float32frombits(u)
	}
	return out
}

// TestRoPEMatchesTransformers checks the three steps of RoPE against
// transformers' own numbers:
//
//   - the unscaled inv_freq is bit-identical to the correctly rounded one
//     and within 1 ulp of transformers' (torch's powf is within 1 ulp of
//     correct, so the two can differ in the last bit);
//   - linear and llama3 scaling applied to transformers' unscaled inv_freq
//     give transformers' scaled inv_freq bit for bit;
//   - cos and sin from transformers' inv_freq, at positions up to 100000,
//     are the correctly rounded values bit for bit, and within 2 ulp of
//     transformers' (PyTorch's vectorised float32 cos/sin are that far
//     from correct).
func TestRoPEMatchesTransformers(t *testing.T) {
	data, err := os.ReadFile("testdata/rope.json")
	require.NoError(t, err)
	var ref ropeReference
	require.NoError(t, json.Unmarshal(data, &ref))
	require.NotEmpty(t, ref.Cases)

	for name, c := range ref.Cases {
		t.Run(name, func(t *testing.T) {
			half := c.HeadDim / 2
			require.Len(t, c.InvFreqExact, half)
			require.Len(t, c.Cos, len(ref.Positions)*half)

			def := defaultInvFreqs(c.RopeTheta, c.HeadDim)
			assert.Equal(t, c.InvFreqExact, bitsOf(def), "unscaled inv_freq vs correctly rounded")
			offByOne := 0
			for i, b := range bitsOf(def) {
				assert.LessOrEqual(t, ulps(b, c.InvFreqDefault[i]), int64(1), "unscaled inv_freq[%d] vs transformers", i)
				if b != c.InvFreqDefault[i] {
					offByOne++
				}
			}
			t.Logf("unscaled inv_freq: %d of %d values 1 ulp from transformers", offByOne, half)

			var s *config.RopeScaling
			if c.RopeScaling != nil {
				s = &config.RopeScaling{Type: c.RopeScaling.RopeType, Factor: c.RopeScaling.Factor,
					LowFreqFactor: c.RopeScaling.LowFreqFactor, HighFreqFactor: c.RopeScaling.HighFreqFactor,
					OriginalMaxPositionEmbeddings: c.RopeScaling.OriginalMaxPositionEmbeddings}
			}
			scaled := floatsOf(c.InvFreqDefault)
			require.NoError(t, scaleInvFreqs(scaled, s))
			assert.Equal(t, c.InvFreq, bitsOf(scaled), "scaled inv_freq from transformers' unscaled one")

			inv := floatsOf(c.InvFreq)
			cos, sin := make([]float32, half), make([]float32, half)
			var gotAll, torchAll []uint32
			for _, pos := range ref.Positions {
				ropeAt(cos, sin, inv, pos)
				gotAll = append(gotAll, bitsOf(cos)...)
				gotAll = append(gotAll, bitsOf(sin)...)
			}
			var exactAll []uint32
			for pi := range ref.Positions {
				exactAll = append(exactAll, c.CosExact[pi*half:(pi+1)*half]...)
				exactAll = append(exactAll, c.SinExact[pi*half:(pi+1)*half]...)
				torchAll = append(torchAll, c.Cos[pi*half:(pi+1)*half]...)
				torchAll = append(torchAll, c.Sin[pi*half:(pi+1)*half]...)
			}
			assert.Equal(t, exactAll, gotAll, "cos/sin vs correctly rounded")
			off := 0
			for i := range gotAll {
				d := ulps(gotAll[i], torchAll[i])
				assert.LessOrEqual(t, d, int64(2), "cos/sin value %d: got %g, transformers %g", i,
					math.Float32frombits(gotAll[i]), math.Float32frombits(torchAll[i]))
				if d > 0 {
					off++
				}
			}
			t.Logf("cos/sin: %d of %d values 1-2 ulp from transformers", off, 2*len(ref.Positions)*half)
		})
	}
}

// TestInvFreqUnknownScaling checks that a scaling type this package does
// not implement is refused rather than ignored.
func TestInvFreqUnknownScaling(t *testing.T) {
	_, err := invFreqs(10000, 64, &config.RopeScaling{Type: "yarn", Factor: 4})
	assert.ErrorIs(t, err, ErrUnsupported)
}
