package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrWrite reports tensors that cannot be written: a duplicate, empty or
// reserved name, a dtype the format does not know, data whose size does not
// match the shape, or metadata that is not valid UTF-8.
var ErrWrite = errors.New("safetensors: cannot write")

// metadataKey is the reserved header key of the free-form metadata.
const metadataKey = "__metadata__"

// dtypeRank orders dtypes as the safetensors reference implementation's
// Dtype enum does; Write lays tensors out by descending rank (widest types
// first, so that every tensor stays aligned to its element size), then by
// name.
var dtypeRank = map[DType]int{
	BOOL: 0, U8: 1, I8: 2, F8E5M2: 3, F8E4M3: 4, I16: 5, U16: 6, F16: 7,
	BF16: 8, I32: 9, U32: 10, F32: 11, F64: 12, I64: 13, U64: 14,
}

// Write writes tensors as one safetensors file to w, byte for byte as the
// reference implementation (Python safetensors' save) lays it out: an
// 8-byte little-endian header length; a compact JSON header holding
// "__metadata__" (when meta is non-empty, its keys sorted) and then every
// tensor's dtype, shape and data_offsets in data order, padded with spaces
// to a multiple of 8 bytes; then the tensors' bytes back to back, ordered
// by descending dtype width class (F32 before BF16 before F16) and then by
// name. Hugging Face writes meta {"format": "pt"}.
//
// Each tensor's Data must hold exactly its shape's elements in its dtype,
// little-endian (F32Tensor, BF16Tensor and F16Tensor build such tensors).
// Names must be non-empty, unique, valid UTF-8 and not "__metadata__".
// Errors wrap ErrWrite, or are w's.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	header, order, err := encodeHeader(tensors, meta)
	if err != nil {
		return err
	}
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(header)))
	if _, err := w.Write(prefix[:]); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return fmt.Errorf("safetensors: write %q: %w", tensors[i].Name, err)
		}
	}
	return nil
}

// WriteFile writes tensors to path as Write does. The file appears
// atomically: it is written to a temporary file in the same directory,
// synced, and renamed over path, so a reader (or a crash) never sees half
// a file.
func WriteFile(path string, tensors []Tensor, meta map[string]string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes it 0600
		return fmt.Errorf("safetensors: %w", err)
	}
	buf := bufio.NewWriterSize(tmp, 64<<10) // tensor data bigger than this bypasses the buffer
	if err := Write(buf, tensors, meta); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// encodeHeader validates the tensors and returns the padded JSON header and
// the order in which their data follows it.
func encodeHeader(tensors []Tensor, meta map[string]string) ([]byte, []int, error) {
	order := make([]int, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		if err := checkWritable(t); err != nil {
			return nil, nil, err
		}
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := &tensors[a], &tensors[b]
		if ra, rb := dtypeRank[ta.DType], dtypeRank[tb.DType]; ra != rb {
			return rb - ra
		}
		return strings.Compare(ta.Name, tb.Name)
	})
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("%w: duplicate tensor name %q", ErrWrite, t.Name)
		}
		seen[t.Name] = true
	}

	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k, v := range meta {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, nil, fmt.Errorf("%w: metadata %q is not valid UTF-8", ErrWrite, k)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		writeJSONString(&h, metadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, meta[k])
		}
		h.WriteByte('}')
		first = false
	}
	var off int64
	for _, i := range order {
		t := &tensors[i]
		if !first {
			h.WriteByte(',')
		}
		first = false
		writeJSONString(&h, t.Name)
		h.WriteString(`:{"dtype":`)
		writeJSONString(&h, string(t.DType))
		h.WriteString(`,"shape":[`)
		for k, d := range t.Shape {
			if k > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := off + int64(len(t.Data))
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderSize {
		return nil, nil, fmt.Errorf("%w: header of %d bytes exceeds %d", ErrWrite, h.Len(), MaxHeaderSize)
	}
	return h.Bytes(), order, nil
}

// checkWritable validates one tensor for Write.
func checkWritable(t *Tensor) error {
	switch {
	case t.Name == "":
		return fmt.Errorf("%w: empty tensor name", ErrWrite)
	case t.Name == metadataKey:
		return fmt.Errorf("%w: tensor name %q is reserved", ErrWrite, t.Name)
	case !utf8.ValidString(t.Name):
		return fmt.Errorf("%w: tensor name %q is not valid UTF-8", ErrWrite, t.Name)
	}
	if _, ok := dtypeRank[t.DType]; !ok {
		return fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrWrite, t.Name, t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("%w: tensor %q: negative dimension in shape %v", ErrWrite, t.Name, t.Shape)
		}
	}
	if err := t.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	return nil
}

// writeJSONString writes s as a JSON string the way serde_json (the
// reference implementation's serializer) does: only '"', '\\' and control
// characters are escaped, other characters are written as UTF-8.
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// F32Tensor returns an F32 tensor holding vals (little-endian copies).
// len(vals) must equal the shape's element count for Write to accept it.
func F32Tensor(name string, shape []int, vals []float32) Tensor {
	data := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: data}
}

// BF16Tensor returns a BF16 tensor holding vals rounded with F32ToBF16.
func BF16Tensor(name string, shape []int, vals []float32) Tensor {
	data := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(data[2*i:], F32ToBF16(v))
	}
	return Tensor{Name: name, DType: BF16, Shape: slices.Clone(shape), Data: data}
}

// F16Tensor returns an F16 tensor holding vals rounded with F32ToF16.
func F16Tensor(name string, shape []int, vals []float32) Tensor {
	data := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(data[2*i:], F32ToF16(v))
	}
	return Tensor{Name: name, DType: F16, Shape: slices.Clone(shape), Data: data}
}

// F32ToBF16 rounds v to bfloat16 to nearest, ties to even, as PyTorch's
// float32 to bfloat16 conversion does; any NaN becomes the quiet NaN
// 0x7fc0 (with v's sign dropped, as PyTorch does).
func F32ToBF16(v float32) uint16 {
	b := math.Float32bits(v)
	if v != v {
		return 0x7fc0
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// F32ToF16 rounds v to IEEE binary16 to nearest, ties to even, with
// subnormal results, overflow to infinity and any NaN the quiet NaN 0x7e00
// with v's sign, as PyTorch's scalar float32 to float16 conversion does.
func F32ToF16(v float32) uint16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff && mant != 0: // NaN: the quiet NaN, payload dropped
		return sign | 0x7e00
	case exp == 0xff: // infinity
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // biased binary16 exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal or zero: shift the full significand (with its
		// implicit bit) right, rounding to nearest even on the bits
		// shifted out.
		if e < -10 {
			return sign // below half the smallest subnormal: ±0
		}
		m := mant | 0x800000
		shift := uint(14 - e) // 13 to drop to 10 bits, plus 1-e for the exponent
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || rem == half && r&1 == 1 {
			r++ // may carry into the smallest normal, which is right
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && r&1 == 1 {
		r++ // may carry into the exponent, up to infinity, which is right
	}
	return sign | uint16(r)
}
