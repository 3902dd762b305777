package safetensors

import (
	"encoding/binary"
	"math"
)

// DType is a safetensors element type, spelled as in the file header
// ("F32", "BF16", ...). Every dtype of the safetensors format is parsed so
// that real files open, but only F32, F16 and BF16 convert to float32.
type DType string

// The safetensors dtypes Loom knows. A header naming any other dtype is
// malformed.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case BOOL, U8, I8, F8E5M2, F8E4M3:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case F64, I64, U64:
		return 8
	}
	return 0
}

// decodeF32 converts little-endian F32 bytes into dst (len(src) == 4*len(dst)).
func decodeF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// decodeU16 copies little-endian 16-bit words into dst (len(src) == 2*len(dst)).
func decodeU16(dst []uint16, src []byte) {
	for i := range dst {
		dst[i] = binary.LittleEndian.Uint16(src[2*i:])
	}
}
