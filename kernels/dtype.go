package kernels

import (
	"errors"
	"fmt"
	"math"
)

// DType names the element type of a weight matrix. The zero value is
// invalid so that a Mat whose DType was never set is caught by Validate.
// A new weight format is one more constant here, one more case in
// Mat.Validate and one more row kernel in matvec.go.
type DType uint8

// The weight element types MatVec and MatMul accept.
const (
	F32  DType = iota + 1 // float32, stored in Mat.F32
	F16                   // IEEE 754 binary16, stored as raw bits in Mat.U16
	BF16                  // bfloat16, stored as raw bits in Mat.U16
	Q8                    // blocks of 32 int8 values with a float32 scale, in Mat.Q8 and Mat.Scales (see QuantizeQ8)
)

// String returns the safetensors spelling of the type ("F32", "F16",
// "BF16"), so that messages read like the checkpoint's header.
func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case BF16:
		return "BF16"
	case Q8:
		return "Q8"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// ErrShape reports a Mat whose dimensions, type or storage do not agree.
var ErrShape = errors.New("kernels: bad matrix shape")

// Mat is a row-major weight matrix of Rows x Cols elements. 16-bit weights
// stay 16-bit in memory (U16, raw bits) and are converted exactly to float32
// inside the kernels, so a model mapped from disk is never widened. The
// storage DType selects is used and the others are empty: F32 or U16 hold
// exactly Rows*Cols elements; a Q8 matrix holds Q8Blocks(Cols) blocks per
// row for Q8Rows(Rows) rows, Q8 their values (each row's last block
// zero-padded) and Scales their scales, in the layout QuantizeQ8
// describes.
type Mat struct {
	Rows, Cols int
	DType      DType
	F32        []float32
	U16        []uint16
	Q8         []uint8
	Scales     []float32
}

// Validate checks that the dimensions are non-negative, that Rows*Cols does
// not overflow, and that the storage DType selects holds exactly Rows*Cols
// elements while the other is empty. Callers building a Mat from a file
// call it once at load time; MatVec and MatMul panic on a Mat it rejects.
func (m *Mat) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil matrix", ErrShape)
	}
	if m.Rows < 0 || m.Cols < 0 {
		return fmt.Errorf("%w: negative dimensions %dx%d", ErrShape, m.Rows, m.Cols)
	}
	if m.Cols > 0 && m.Rows > math.MaxInt/m.Cols {
		return fmt.Errorf("%w: %dx%d overflows", ErrShape, m.Rows, m.Cols)
	}
	size := m.Rows * m.Cols
	switch m.DType {
	case F32:
		if len(m.F32) != size || len(m.U16) != 0 || len(m.Q8) != 0 || len(m.Scales) != 0 {
			return fmt.Errorf("%w: %s %dx%d needs %d float32 values, has F32 %d, U16 %d, Q8 %d, Scales %d",
				ErrShape, m.DType, m.Rows, m.Cols, size, len(m.F32), len(m.U16), len(m.Q8), len(m.Scales))
		}
	case F16, BF16:
		if len(m.U16) != size || len(m.F32) != 0 || len(m.Q8) != 0 || len(m.Scales) != 0 {
			return fmt.Errorf("%w: %s %dx%d needs %d uint16 values, has U16 %d, F32 %d, Q8 %d, Scales %d",
				ErrShape, m.DType, m.Rows, m.Cols, size, len(m.U16), len(m.F32), len(m.Q8), len(m.Scales))
		}
	case Q8:
		if m.Rows > math.MaxInt-Q8Group || (m.Cols > 0 && Q8Rows(m.Rows) > math.MaxInt/Q8Blocks(m.Cols)) {
			return fmt.Errorf("%w: Q8 %dx%d overflows", ErrShape, m.Rows, m.Cols)
		}
		blocks := Q8Rows(m.Rows) * Q8Blocks(m.Cols)
		if blocks > math.MaxInt/Q8Block || len(m.Q8) != blocks*Q8Block || len(m.Scales) != blocks ||
			len(m.F32) != 0 || len(m.U16) != 0 {
			return fmt.Errorf("%w: Q8 %dx%d needs %d blocks, has Q8 %d, Scales %d, F32 %d, U16 %d",
				ErrShape, m.Rows, m.Cols, blocks, len(m.Q8), len(m.Scales), len(m.F32), len(m.U16))
		}
	default:
		return fmt.Errorf("%w: unknown dtype %s", ErrShape, m.DType)
	}
	return nil
}
