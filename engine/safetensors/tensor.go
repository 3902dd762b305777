package safetensors

import (
	"fmt"
	"unsafe"

	"github.com/loomai/loom/kernels"
)

// Tensor is one named tensor. Data holds its raw little-endian bytes; for a
// file opened with Open or Parse it aliases the file's memory, so it must not
// be modified and is only valid until the File is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// nativeLittleEndian reports whether this machine stores words little-endian
// like safetensors does, which zero-copy views require.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// check verifies that Data has exactly the size the dtype and shape imply.
// The parser guarantees it for tensors it hands out; a Tensor built by hand
// may not, and the conversions below must not index out of range.
func (t *Tensor) check() error {
	size := t.DType.Size()
	if size == 0 {
		return fmt.Errorf("safetensors: tensor %q: unknown dtype %q: %w", t.Name, t.DType, ErrMalformed)
	}
	n, ok := numElements(t.Shape)
	if !ok || n > len(t.Data)/size || n*size != len(t.Data) {
		return fmt.Errorf("safetensors: tensor %q: %d bytes do not hold %s%v: %w", t.Name, len(t.Data), t.DType, t.Shape, ErrMalformed)
	}
	return nil
}

// Float32 returns a new float32 slice holding the tensor's values converted
// exactly from F32, F16 or BF16. The caller owns and may modify it.
func (t *Tensor) Float32() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	out := make([]float32, len(t.Data)/t.DType.Size())
	switch t.DType {
	case F32:
		decodeF32(out, t.Data)
	case F16:
		for i := range out {
			out[i] = kernels.F16ToF32(uint16(t.Data[2*i]) | uint16(t.Data[2*i+1])<<8)
		}
	case BF16:
		for i := range out {
			out[i] = kernels.BF16ToF32(uint16(t.Data[2*i]) | uint16(t.Data[2*i+1])<<8)
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor %q: dtype %s does not convert to float32: %w", t.Name, t.DType, ErrDType)
	}
	return out, nil
}

// F32 returns the values as float32. For an F32 tensor whose data is 4-byte
// aligned on a little-endian machine it is a view of Data (read-only, valid
// while the file is open) so that weights are not copied; otherwise it is a
// converting copy, as from Float32.
func (t *Tensor) F32() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if t.DType == F32 && nativeLittleEndian {
		if len(t.Data) == 0 {
			return []float32{}, nil
		}
		if uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))%4 == 0 {
			return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(t.Data))), len(t.Data)/4), nil
		}
	}
	return t.Float32()
}

// U16 returns the raw 16-bit words of an F16 or BF16 tensor, so that 16-bit
// weights stay 16-bit in memory. When Data is 2-byte aligned on a
// little-endian machine it is a view of Data (read-only, valid while the
// file is open); otherwise it is a copy. Other dtypes are an error.
func (t *Tensor) U16() ([]uint16, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if t.DType != F16 && t.DType != BF16 {
		return nil, fmt.Errorf("safetensors: tensor %q: dtype %s is not F16 or BF16: %w", t.Name, t.DType, ErrDType)
	}
	if len(t.Data) == 0 {
		return []uint16{}, nil
	}
	if nativeLittleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(t.Data))), len(t.Data)/2), nil
	}
	out := make([]uint16, len(t.Data)/2)
	decodeU16(out, t.Data)
	return out, nil
}
