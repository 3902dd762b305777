package model

import (
	"fmt"
	"unsafe"

	"github.com/loomai/loom/kernels"
)

// QuantizeQ8 is the Options.Quantize value that converts the weight
// matrices to kernels.Q8 at load.
const QuantizeQ8 = "q8"

// releaseChunk is how many bytes of a memory-mapped source matrix are
// read before their pages are handed back to the OS during quantization.
const releaseChunk = 1 << 20

// checkQuantize rejects an Options.Quantize value this package does not
// implement.
func checkQuantize(mode string) error {
	if mode != "" && mode != QuantizeQ8 {
		return fmt.Errorf("quantize %q (want \"\" or %q): %w", mode, QuantizeQ8, ErrUnsupported)
	}
	return nil
}

// quantize converts, for mode QuantizeQ8, every projection matrix and the
// LM head to kernels.Q8; mode "" does nothing. The embedding keeps its
// file dtype for lookups (a tied LM head becomes a Q8 copy of it), as do
// the norms and biases, which are small. Matrices are converted row by
// row, so no float32 copy of the model ever exists; with release (the
// weights are a read-only file mapping), the pages of each source matrix
// are handed back to the OS as soon as they are read, so that the process
// holds the Q8 weights and not the file as well.
func (m *Model) quantize(mode string, release bool) error {
	if mode == "" {
		return nil
	}
	for i := range m.Layers {
		ly := &m.Layers[i]
		for _, w := range []struct {
			name string
			mat  *kernels.Mat
		}{
			{"self_attn.q_proj", &ly.Attn.Q}, {"self_attn.k_proj", &ly.Attn.K},
			{"self_attn.v_proj", &ly.Attn.V}, {"self_attn.o_proj", &ly.Attn.O},
			{"mlp.gate_proj", &ly.MLP.Gate}, {"mlp.up_proj", &ly.MLP.Up}, {"mlp.down_proj", &ly.MLP.Down},
		} {
			q, err := quantizeMat(w.mat, release)
			if err != nil {
				return fmt.Errorf("model.layers.%d.%s.weight: %w", i, w.name, err)
			}
			*w.mat = q
		}
	}
	head, err := quantizeMat(m.LMHead, release)
	if err != nil {
		return fmt.Errorf("lm_head: %w", err)
	}
	m.LMHead = &head
	return nil
}

// quantizeMat returns src converted to Q8 by kernels.QuantizeQ8, handing
// the pages of src back to the OS every releaseChunk bytes when release is
// set.
func quantizeMat(src *kernels.Mat, release bool) (kernels.Mat, error) {
	var raw []byte // src's storage as bytes
	switch {
	case len(src.F32) > 0:
		raw = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src.F32))), 4*len(src.F32))
	case len(src.U16) > 0:
		raw = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src.U16))), 2*len(src.U16))
	}
	rowBytes := 0
	if src.Rows > 0 {
		rowBytes = len(raw) / src.Rows
	}
	done := 0 // bytes of raw already released
	return kernels.QuantizeQ8(src.Rows, src.Cols, func(dst []float32, r int) {
		src.RowTo(dst, r)
		if end := (r + 1) * rowBytes; release && (end-done >= releaseChunk || r == src.Rows-1) {
			done += releasePages(raw[done:end])
		}
	})
}
