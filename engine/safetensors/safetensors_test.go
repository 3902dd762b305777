package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openers are the three ways to get a File; every File test runs on each.
var openers = []struct {
	name string
	open func(t *testing.T, data []byte) (*File, error)
}{
	{"Parse", func(t *testing.T, data []byte) (*File, error) { return Parse(data) }},
	{"ReadFrom", func(t *testing.T, data []byte) (*File, error) {
		return ReadFrom(bytes.NewReader(data), int64(len(data)))
	}},
	{"Open", func(t *testing.T, data []byte) (*File, error) {
		path := filepath.Join(t.TempDir(), "x.safetensors")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return Open(path)
	}},
}

func TestParseValid(t *testing.T) {
	meta := map[string]string{"format": "pt", "note": "ok"}
	data := buildFile(t, meta,
		testTensor{"b.f32", F32, []int{2, 3}, f32Bytes(1, -2, 3.5, 0, float32(math.Inf(1)), -0.25)},
		testTensor{"a.f16", F16, []int{3}, u16Bytes(0x3c00, 0xc000, 0x0001)},
		testTensor{"c.bf16", BF16, []int{1, 2}, u16Bytes(0x3f80, 0xc049)},
		testTensor{"d.i64", I64, []int{1}, make([]byte, 8)},
		testTensor{"e.scalar", BOOL, nil, []byte{1}},
		testTensor{"f.empty", F32, []int{0, 4}, nil},
	)
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) {
			f, err := o.open(t, data)
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, []string{"a.f16", "b.f32", "c.bf16", "d.i64", "e.scalar", "f.empty"}, f.Names())
			assert.Equal(t, meta, f.Metadata())

			b, err := f.Tensor("b.f32")
			require.NoError(t, err)
			assert.Equal(t, F32, b.DType)
			assert.Equal(t, []int{2, 3}, b.Shape)
			assert.Equal(t, 6, b.NumElements())
			vals, err := b.Float32()
			require.NoError(t, err)
			assert.Equal(t, []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25}, vals)

			a, err := f.Tensor("a.f16")
			require.NoError(t, err)
			words, err := a.U16()
			require.NoError(t, err)
			assert.Equal(t, []uint16{0x3c00, 0xc000, 0x0001}, words)

			s, err := f.Tensor("e.scalar")
			require.NoError(t, err)
			assert.Equal(t, []int{}, s.Shape)
			assert.Equal(t, 1, s.NumElements())
			assert.Equal(t, []byte{1}, s.Data)

			e, err := f.Tensor("f.empty")
			require.NoError(t, err)
			assert.Equal(t, 0, e.NumElements())
			ev, err := e.F32()
			require.NoError(t, err)
			assert.Empty(t, ev)

			_, err = f.Tensor("nope")
			assert.ErrorIs(t, err, ErrMissingTensor)
			assert.ErrorContains(t, err, `tensor "nope"`)
		})
	}
}

func TestTensorShapeIsACopy(t *testing.T) {
	f, err := Parse(buildFile(t, nil, testTensor{"w", F32, []int{2}, f32Bytes(1, 2)}))
	require.NoError(t, err)
	w, err := f.Tensor("w")
	require.NoError(t, err)
	w.Shape[0] = 99
	w2, err := f.Tensor("w")
	require.NoError(t, err)
	assert.Equal(t, []int{2}, w2.Shape)
}

// header returns a file whose header is the given JSON and whose data
// region is n zero bytes.
func header(json string, n int) []byte {
	return rawFile(json, make([]byte, n))
}

func TestMalformed(t *testing.T) {
	valid := buildFile(t, nil, testTensor{"w", F32, []int{2}, f32Bytes(1, 2)})
	withLen := func(n uint64) []byte {
		out := binary.LittleEndian.AppendUint64(nil, n)
		return append(out, `{}`...)
	}
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty file", nil, "truncated"},
		{"truncated length", []byte{1, 2, 3}, "truncated"},
		{"truncated header", valid[:12], "truncated"},
		{"truncated data", valid[:len(valid)-1], "past the end"},
		{"huge header length", withLen(1 << 62), "exceeds the"},
		{"header length just over limit", withLen(MaxHeaderSize + 1), "exceeds the"},
		{"header length past end", withLen(3), "truncated"},
		{"bad JSON", header(`{"w": {"dtype": "F32",`, 0), "bad JSON"},
		{"non-object JSON", header(`[1, 2, 3]`, 0), "not an object"},
		{"JSON string", header(`"hello"`, 0), "not an object"},
		{"trailing data", header(`{} {}`, 0), "trailing data"},
		{"invalid UTF-8", header("{\"w\xff\": 1}", 0), "UTF-8"},
		{"tensor not an object", header(`{"w": 5}`, 0), `tensor "w"`},
		{"duplicate tensor", header(`{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}`, 2), `duplicate key "w"`},
		{"unknown dtype", header(`{"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}`, 16), `unknown dtype "F128"`},
		{"lowercase dtype", header(`{"w": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}}`, 4), `unknown dtype "f32"`},
		{"missing dtype", header(`{"w": {"shape": [1], "data_offsets": [0, 4]}}`, 4), "needs dtype"},
		{"null shape", header(`{"w": {"dtype": "F32", "shape": null, "data_offsets": [0, 4]}}`, 4), "bad shape"},
		{"missing offsets", header(`{"w": {"dtype": "F32", "shape": [1]}}`, 4), "needs dtype"},
		{"unknown field", header(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": 1}}`, 4), `unknown field "extra"`},
		{"duplicate field", header(`{"w": {"dtype": "F32", "dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}`, 4), `duplicate key "dtype"`},
		{"negative shape", header(`{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}`, 4), "bad shape"},
		{"fractional shape", header(`{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}`, 4), "bad shape"},
		{"huge dimension", header(`{"w": {"dtype": "F32", "shape": [4294967296], "data_offsets": [0, 4]}}`, 4), "too large"},
		{"shape overflows", header(`{"w": {"dtype": "F64", "shape": [2147483647, 2147483647, 2147483647], "data_offsets": [0, 8]}}`, 8), "overflows"},
		{"three offsets", header(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}`, 8), "has 3 values"},
		{"offsets backwards", header(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}`, 4), "backwards"},
		{"offsets past the end", header(`{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}`, 4), "past the end"},
		{"offset overflows u64", header(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551616]}}`, 4), "bad data_offsets"},
		{"dtype/size mismatch", header(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 2]}}`, 2), "dtype/size mismatch"},
		{"wrong shape for offsets", header(`{"w": {"dtype": "F16", "shape": [3, 2], "data_offsets": [0, 8]}}`, 8), "dtype/size mismatch"},
		{"overlapping offsets", header(`{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}`, 6), "overlap"},
		{"same offsets twice", header(`{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}`, 4), "overlap"},
		{"gap between tensors", header(`{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}}`, 6), "gap"},
		{"trailing bytes", header(`{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}`, 3), "cover 2 of the 3"},
		{"data but no tensors", header(`{}`, 1), "cover 0 of the 1"},
		{"metadata not a string map", header(`{"__metadata__": {"format": 1}}`, 0), "__metadata__"},
		{"metadata not an object", header(`{"__metadata__": "pt"}`, 0), "not an object"},
		{"metadata duplicate key", header(`{"__metadata__": {"a": "1", "a": "2"}}`, 0), `duplicate key "a"`},
	}
	for _, tt := range tests {
		for _, o := range openers {
			t.Run(tt.name+"/"+o.name, func(t *testing.T) {
				f, err := o.open(t, tt.data)
				assert.Nil(t, f)
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrMalformed)
				assert.ErrorContains(t, err, tt.msg)
				if o.name == "Open" {
					assert.ErrorContains(t, err, "x.safetensors", "the error names the file")
				}
			})
		}
	}
}

func TestZeroCopyViews(t *testing.T) {
	data := buildFile(t, nil,
		testTensor{"f32", F32, []int{2}, f32Bytes(1.5, -3)},
		testTensor{"f16", F16, []int{2}, u16Bytes(0x3c00, 0x4000)},
	)
	// Parse from an 8-aligned copy, so header padding keeps tensors aligned.
	f, err := Parse(append(alignedBytes(0), data...)[:len(data):len(data)])
	require.NoError(t, err)
	if !nativeLittleEndian {
		t.Skip("zero-copy views need a little-endian machine")
	}
	for _, tt := range []struct {
		name string
		view func(*Tensor) (unsafe.Pointer, error)
	}{
		{"f32", func(tn *Tensor) (unsafe.Pointer, error) { v, err := tn.F32(); return unsafe.Pointer(&v[0]), err }},
		{"f16", func(tn *Tensor) (unsafe.Pointer, error) { v, err := tn.U16(); return unsafe.Pointer(&v[0]), err }},
	} {
		tn, err := f.Tensor(tt.name)
		require.NoError(t, err)
		p, err := tt.view(tn)
		require.NoError(t, err)
		assert.Equal(t, unsafe.Pointer(&tn.Data[0]), p, "%s: view must alias Data", tt.name)
	}
}

func TestUnalignedCopies(t *testing.T) {
	buf := alignedBytes(9)
	copy(buf[1:], f32Bytes(2.5, -1))
	f32 := &Tensor{Name: "x", DType: F32, Shape: []int{2}, Data: buf[1:9]}
	v, err := f32.F32()
	require.NoError(t, err)
	assert.Equal(t, []float32{2.5, -1}, v)
	assert.NotEqual(t, unsafe.Pointer(&f32.Data[0]), unsafe.Pointer(&v[0]))

	buf = alignedBytes(5)
	copy(buf[1:], u16Bytes(0x1234, 0xabcd))
	f16 := &Tensor{Name: "y", DType: BF16, Shape: []int{2}, Data: buf[1:5]}
	w, err := f16.U16()
	require.NoError(t, err)
	assert.Equal(t, []uint16{0x1234, 0xabcd}, w)
}

func TestConversionErrors(t *testing.T) {
	tests := []struct {
		name string
		t    *Tensor
		call func(*Tensor) error
		err  error
		msg  string
	}{
		{"Float32 of I64", &Tensor{Name: "i", DType: I64, Shape: []int{1}, Data: make([]byte, 8)},
			func(t *Tensor) error { _, err := t.Float32(); return err }, ErrDType, "does not convert"},
		{"F32 of U8", &Tensor{Name: "u", DType: U8, Shape: []int{1}, Data: make([]byte, 1)},
			func(t *Tensor) error { _, err := t.F32(); return err }, ErrDType, "does not convert"},
		{"U16 of F32", &Tensor{Name: "f", DType: F32, Shape: []int{1}, Data: make([]byte, 4)},
			func(t *Tensor) error { _, err := t.U16(); return err }, ErrDType, "not F16 or BF16"},
		{"U16 of I16", &Tensor{Name: "s", DType: I16, Shape: []int{1}, Data: make([]byte, 2)},
			func(t *Tensor) error { _, err := t.U16(); return err }, ErrDType, "not F16 or BF16"},
		{"hand-built short data", &Tensor{Name: "h", DType: F32, Shape: []int{4}, Data: make([]byte, 5)},
			func(t *Tensor) error { _, err := t.Float32(); return err }, ErrMalformed, "do not hold"},
		{"hand-built unknown dtype", &Tensor{Name: "h", DType: "Q4", Shape: []int{1}, Data: make([]byte, 1)},
			func(t *Tensor) error { _, err := t.U16(); return err }, ErrMalformed, "unknown dtype"},
		{"hand-built overflowing shape", &Tensor{Name: "h", DType: F32, Shape: []int{math.MaxInt / 2, 4}, Data: make([]byte, 8)},
			func(t *Tensor) error { _, err := t.F32(); return err }, ErrMalformed, "do not hold"},
		{"hand-built negative shape", &Tensor{Name: "h", DType: F32, Shape: []int{-1}, Data: nil},
			func(t *Tensor) error { _, err := t.F32(); return err }, ErrMalformed, "do not hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.t)
			assert.ErrorIs(t, err, tt.err)
			assert.ErrorContains(t, err, tt.msg)
			assert.ErrorContains(t, err, fmt.Sprintf("tensor %q", tt.t.Name))
		})
	}
}

func TestF32OfF16IsConverted(t *testing.T) {
	tn := &Tensor{Name: "h", DType: F16, Shape: []int{2}, Data: u16Bytes(0x3c00, 0xc000)}
	a, err := tn.F32()
	require.NoError(t, err)
	b, err := tn.Float32()
	require.NoError(t, err)
	assert.Equal(t, b, a)
}

func TestClose(t *testing.T) {
	data := buildFile(t, nil, testTensor{"w", F32, []int{1}, f32Bytes(1)})
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) {
			f, err := o.open(t, data)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.NoError(t, f.Close(), "closing twice is a no-op")
			_, err = f.Tensor("w")
			assert.ErrorIs(t, err, fs.ErrClosed)
		})
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.safetensors"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorContains(t, err, "none.safetensors")
}

// errReaderAt fails every read, like a broken disk or a closed pck.
type errReaderAt struct{ after []byte }

func (r errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= int64(len(r.after)) {
		return copy(p, r.after[off:]), nil
	}
	return 0, errors.New("disk on fire")
}

// eofReaderAt answers io.EOF together with a complete read that reaches
// the end of its data, as the io.ReaderAt contract allows.
type eofReaderAt struct{ data []byte }

func (r eofReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if off+int64(n) == int64(len(r.data)) {
		return n, io.EOF
	}
	return n, nil
}

func TestReadFromEOFWithFullRead(t *testing.T) {
	data := buildFile(t, nil, testTensor{"w", F32, []int{2}, f32Bytes(4, 5)})
	f, err := ReadFrom(eofReaderAt{data}, int64(len(data)))
	require.NoError(t, err)
	w, err := f.Tensor("w")
	require.NoError(t, err)
	v, err := w.Float32()
	require.NoError(t, err)
	assert.Equal(t, []float32{4, 5}, v)

	// A size larger than the data leaves the tensor read short.
	f, err = ReadFrom(eofReaderAt{data[:len(data)-4]}, int64(len(data)))
	require.NoError(t, err)
	_, err = f.Tensor("w")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestReadFromErrors(t *testing.T) {
	data := buildFile(t, nil, testTensor{"w", F32, []int{1}, f32Bytes(1)})
	// The reader fails past the header: parsing works, the tensor read fails.
	f, err := ReadFrom(errReaderAt{data[:len(data)-4]}, int64(len(data)))
	require.NoError(t, err)
	_, err = f.Tensor("w")
	assert.ErrorContains(t, err, "disk on fire")
	assert.ErrorContains(t, err, `tensor "w"`)

	_, err = ReadFrom(errReaderAt{data[:10]}, int64(len(data)))
	assert.ErrorContains(t, err, "reading header")

	_, err = ReadFrom(errReaderAt{}, int64(len(data)))
	assert.ErrorContains(t, err, "reading header length")

	_, err = ReadFrom(bytes.NewReader(data), -5)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestDTypeSizes(t *testing.T) {
	// The full safetensors dtype list and element sizes, from the format's
	// specification (safetensors' Dtype enum).
	want := map[DType]int{BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
		I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8}
	for dt, size := range want {
		assert.Equal(t, size, dt.Size(), dt)
		assert.Equal(t, strings.ToUpper(string(dt)), string(dt))
	}
	assert.Equal(t, 0, DType("C64").Size())
}
