package safetensors

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writerReference is the file the Python safetensors library wrote
// (testdata/writer_reference.py); Write must reproduce it byte for byte.
const writerReference = "testdata/writer_reference.safetensors"

// rangeF32 returns 0, 1, ..., n-1 as float32 (torch.arange).
func rangeF32(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

// rebuildReference builds the tensors of writer_reference.py in Go: the
// source values are read from the reference file, everything derived from
// them (the bfloat16 and float16 roundings) is computed here.
func rebuildReference(t *testing.T, ref *File) []Tensor {
	t.Helper()
	srcT, err := ref.Tensor("src")
	require.NoError(t, err)
	src, err := srcT.Float32()
	require.NoError(t, err)
	n := len(src)
	ones := func(k int) []float32 {
		v := make([]float32, k)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	return []Tensor{
		F32Tensor("src", []int{n}, src),
		BF16Tensor("as_bf16", []int{n}, src),
		F16Tensor("as_f16", []int{n}, src),
		F32Tensor("model.layers.0.weight", []int{2, 3}, rangeF32(6)),
		F32Tensor("scalar", []int{}, []float32{2.5}),
		F16Tensor("empty", []int{0, 4}, nil),
		BF16Tensor("cube", []int{2, 2, 2}, rangeF32(8)),
		F32Tensor("quote\"back\\slash", []int{1}, ones(1)),
		F16Tensor("tab\tnew\nline\x01", []int{1}, ones(1)),
		BF16Tensor("ünïcödé", []int{2}, ones(2)),
	}
}

func TestWriteMatchesReference(t *testing.T) {
	want, err := os.ReadFile(writerReference)
	require.NoError(t, err)
	ref, err := Parse(want)
	require.NoError(t, err)
	tensors := rebuildReference(t, ref)

	var got bytes.Buffer
	require.NoError(t, Write(&got, tensors, map[string]string{"format": "pt"}))
	if !assert.Equal(t, want, got.Bytes()) {
		// Narrow a mismatch down to the tensor whose bytes differ.
		for _, tn := range tensors {
			r, err := ref.Tensor(tn.Name)
			require.NoError(t, err)
			assert.Equal(t, r.Data, tn.Data, "tensor %q", tn.Name)
		}
	}

	// The input order does not matter.
	reversed := make([]Tensor, len(tensors))
	for i, tn := range tensors {
		reversed[len(tensors)-1-i] = tn
	}
	got.Reset()
	require.NoError(t, Write(&got, reversed, map[string]string{"format": "pt"}))
	assert.Equal(t, want, got.Bytes())
}

func TestWriteReadBack(t *testing.T) {
	vals := []float32{1.5, -2, 0.1, float32(math.Inf(1)), 3e-7, 65504}
	tensors := []Tensor{
		F32Tensor("b.f32", []int{2, 3}, vals),
		BF16Tensor("a.bf16", []int{3, 2}, vals),
		F16Tensor("c.f16", []int{6}, vals),
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, WriteFile(path, tensors, map[string]string{"format": "pt", "note": "x"}))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"a.bf16", "b.f32", "c.f16"}, f.Names())
	assert.Equal(t, map[string]string{"format": "pt", "note": "x"}, f.Metadata())
	for _, tn := range tensors {
		got, err := f.Tensor(tn.Name)
		require.NoError(t, err)
		assert.Equal(t, tn.DType, got.DType, tn.Name)
		assert.Equal(t, tn.Shape, got.Shape, tn.Name)
		assert.Equal(t, tn.Data, got.Data, tn.Name)
	}
	f32, err := f.Tensor("b.f32")
	require.NoError(t, err)
	back, err := f32.Float32()
	require.NoError(t, err)
	assert.Equal(t, vals, back)
	// Rounding to 16 bits and back is the identity on values that fit.
	for i, v := range []float32{1.5, -2, 0.5, 256, float32(math.Inf(-1))} {
		assert.Equal(t, v, bf16Back(F32ToBF16(v)), "bf16 %d", i)
		assert.Equal(t, v, f16Back(F32ToF16(v)), "f16 %d", i)
	}
	assert.Equal(t, float32(65504), f16Back(F32ToF16(65504)), "largest float16")
	assert.True(t, math.IsNaN(float64(bf16Back(F32ToBF16(float32(math.NaN()))))))
	assert.True(t, math.IsNaN(float64(f16Back(F32ToF16(float32(math.NaN()))))))
}

func TestWriteErrors(t *testing.T) {
	good := F32Tensor("w", []int{2}, []float32{1, 2})
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
	}{
		{"duplicate name", []Tensor{good, F16Tensor("w", []int{2}, []float32{1, 2})}, nil},
		{"empty name", []Tensor{F32Tensor("", []int{1}, []float32{1})}, nil},
		{"reserved name", []Tensor{F32Tensor("__metadata__", []int{1}, []float32{1})}, nil},
		{"invalid UTF-8 name", []Tensor{F32Tensor("a\xff", []int{1}, []float32{1})}, nil},
		{"short data", []Tensor{F32Tensor("w", []int{3}, []float32{1, 2})}, nil},
		{"negative dimension", []Tensor{{Name: "w", DType: F32, Shape: []int{-1}, Data: nil}}, nil},
		{"overflowing shape", []Tensor{{Name: "w", DType: F32, Shape: []int{1 << 40, 1 << 40}, Data: nil}}, nil},
		{"unknown dtype", []Tensor{{Name: "w", DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, nil},
		{"invalid UTF-8 metadata", []Tensor{good}, map[string]string{"format": "\xff"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, c.tensors, c.meta)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrWrite), "%v", err)
			assert.Zero(t, buf.Len(), "nothing is written on error")
		})
	}
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	require.Error(t, WriteFile(path, cases[0].tensors, nil))
	_, err := os.Stat(path)
	assert.True(t, errors.Is(err, os.ErrNotExist), "a failed WriteFile leaves no file")
}

// bf16Back and f16Back decode one value through Tensor.Float32, the path
// a reader takes.
func bf16Back(h uint16) float32 { return decode16(t16(BF16, h)) }

// f16Back is bf16Back for float16.
func f16Back(h uint16) float32 { return decode16(t16(F16, h)) }

func t16(d DType, h uint16) Tensor {
	return Tensor{Name: "x", DType: d, Shape: []int{1}, Data: []byte{byte(h), byte(h >> 8)}}
}

func decode16(tn Tensor) float32 {
	v, err := tn.Float32()
	if err != nil {
		panic(err)
	}
	return v[0]
}
