// Package safetensors reads the safetensors weight format with hard bounds
// on everything a hostile file controls: header size, dtypes, shapes and
// offsets are validated before any tensor is handed out. Files are mapped
// into memory (Open), parsed from bytes (Parse) or read through an
// io.ReaderAt (ReadFrom); a Set gathers a model's tensors from a single file
// or from shards listed in model.safetensors.index.json.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"sort"
	"unicode/utf8"
	"unsafe"
)

// MaxHeaderSize bounds the JSON header (the safetensors reference
// implementation uses the same 100 MB limit), so a hostile length prefix
// cannot make us allocate more.
const MaxHeaderSize = 100 << 20

// Sentinel errors, usable with errors.Is on every error this package returns.
var (
	// ErrMalformed reports a file or index that breaks the format.
	ErrMalformed = errors.New("malformed safetensors")
	// ErrMissingTensor reports a tensor name that is not present.
	ErrMissingTensor = errors.New("missing tensor")
	// ErrDType reports a conversion the tensor's dtype does not support,
	// such as Float32 on an I64 tensor.
	ErrDType = errors.New("unsupported dtype")
)

// memoryName is the name errors use for a file given as bytes or a reader.
const memoryName = "<memory>"

// entry is one validated tensor of a header; begin and end are offsets
// into the data region.
type entry struct {
	dtype      DType
	shape      []int
	begin, end int64
}

// File is one parsed .safetensors file. Its methods must not be called
// concurrently with Close.
type File struct {
	name    string
	data    []byte      // the data region, when the file is in memory
	r       io.ReaderAt // otherwise the tensors are read from r
	base    int64       // offset of the data region in r
	entries map[string]entry
	names   []string
	meta    map[string]string
	closeFn func() error
	closed  bool
}

// Parse parses a whole safetensors file held in memory. Tensors alias data.
func Parse(data []byte) (*File, error) {
	return parseBytes(memoryName, data)
}

// parseBytes parses an in-memory file; name is used in errors.
func parseBytes(name string, data []byte) (*File, error) {
	n, err := headerLen(name, int64(len(data)), data)
	if err != nil {
		return nil, err
	}
	f := &File{name: name, data: data[8+n:]}
	if err := f.parseHeader(data[8:8+n], int64(len(data))-8-n); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFrom parses the safetensors file of the given size readable through r.
// Only the header is read now; each Tensor call reads that tensor's bytes
// into a new buffer.
func ReadFrom(r io.ReaderAt, size int64) (*File, error) {
	return readFrom(memoryName, r, size, nil)
}

// readFrom is ReadFrom with a name for errors and a close function that the
// File's Close calls.
func readFrom(name string, r io.ReaderAt, size int64, closeFn func() error) (*File, error) {
	var prefix [8]byte
	if size >= 8 {
		if err := readFull(r, prefix[:], 0); err != nil {
			return nil, fmt.Errorf("safetensors %s: reading header length: %w", name, err)
		}
	}
	n, err := headerLen(name, size, prefix[:])
	if err != nil {
		return nil, err
	}
	header := make([]byte, n)
	if err := readFull(r, header, 8); err != nil {
		return nil, fmt.Errorf("safetensors %s: reading header: %w", name, err)
	}
	f := &File{name: name, r: r, base: 8 + n, closeFn: closeFn}
	if err := f.parseHeader(header, size-8-n); err != nil {
		return nil, err
	}
	return f, nil
}

// readFull fills p from r at off. io.ReaderAt may report io.EOF along with
// a complete read at the end of the input; only a short read is an error.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	if len(p) == 0 {
		return nil // some readers answer EOF to an empty read at the end
	}
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// headerLen validates the 8-byte little-endian header length of a file of
// the given size whose first bytes are prefix.
func headerLen(name string, size int64, prefix []byte) (int64, error) {
	if size < 8 {
		return 0, errTooShort(name, size)
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n > MaxHeaderSize {
		return 0, fmt.Errorf("safetensors %s: header length %d exceeds the %d byte limit: %w", name, n, MaxHeaderSize, ErrMalformed)
	}
	if int64(n) > size-8 {
		return 0, fmt.Errorf("safetensors %s: truncated: header length %d but only %d bytes follow: %w", name, n, size-8, ErrMalformed)
	}
	return int64(n), nil
}

// errTooShort reports a file too short to hold the header length.
func errTooShort(name string, size int64) error {
	return fmt.Errorf("safetensors %s: truncated: %d bytes, need at least 8: %w", name, size, ErrMalformed)
}

// parseHeader validates the JSON header against a data region of dataLen
// bytes and fills the File's tables.
func (f *File) parseHeader(header []byte, dataLen int64) error {
	if !utf8.Valid(header) {
		return f.malformed("header is not valid UTF-8")
	}
	f.entries = map[string]entry{}
	f.meta = map[string]string{}
	err := decodeObject(header, func(key string, raw json.RawMessage) error {
		if key == "__metadata__" {
			return decodeObject(raw, func(k string, v json.RawMessage) error {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return fmt.Errorf("__metadata__ value of %q is not a string", k)
				}
				f.meta[k] = s
				return nil
			})
		}
		e, err := parseEntry(raw, dataLen)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", key, err)
		}
		f.entries[key] = e
		return nil
	})
	if err != nil {
		return fmt.Errorf("safetensors %s: %w: %w", f.name, err, ErrMalformed)
	}
	f.names = make([]string, 0, len(f.entries))
	for name := range f.entries {
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	return f.checkLayout(dataLen)
}

// parseEntry validates one tensor's dtype, shape and offsets. The entry
// must hold exactly the keys dtype, shape and data_offsets.
func parseEntry(raw json.RawMessage, dataLen int64) (entry, error) {
	var dtype string
	var dims, offs []uint64
	err := decodeObject(raw, func(key string, v json.RawMessage) error {
		var err error
		switch key {
		case "dtype":
			err = json.Unmarshal(v, &dtype)
		case "shape":
			dims = []uint64{}
			err = unmarshalNonNull(v, &dims)
		case "data_offsets":
			offs = []uint64{}
			err = unmarshalNonNull(v, &offs)
		default:
			return fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			return fmt.Errorf("bad %s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return entry{}, err
	}
	if dtype == "" || dims == nil || offs == nil {
		return entry{}, errors.New("tensor info needs dtype, shape and data_offsets")
	}
	dt := DType(dtype)
	size := dt.Size()
	if size == 0 {
		return entry{}, fmt.Errorf("unknown dtype %q", dtype)
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d > math.MaxInt32 {
			return entry{}, fmt.Errorf("shape %v: dimension %d too large", dims, d)
		}
		shape[i] = int(d)
	}
	n, ok := numElements(shape)
	if !ok || n > math.MaxInt/size { // the byte count must fit in an int
		return entry{}, fmt.Errorf("shape %v: element count overflows", shape)
	}
	if len(offs) != 2 {
		return entry{}, fmt.Errorf("data_offsets has %d values, want 2", len(offs))
	}
	begin, end := offs[0], offs[1]
	if begin > end {
		return entry{}, fmt.Errorf("data_offsets [%d, %d] run backwards", begin, end)
	}
	if end > uint64(dataLen) {
		return entry{}, fmt.Errorf("data_offsets [%d, %d] past the end of the %d byte data region", begin, end, dataLen)
	}
	if want := int64(n) * int64(size); int64(end-begin) != want {
		return entry{}, fmt.Errorf("dtype/size mismatch: %s%v needs %d bytes, data_offsets [%d, %d] hold %d", dt, shape, want, begin, end, end-begin)
	}
	return entry{dtype: dt, shape: shape, begin: int64(begin), end: int64(end)}, nil
}

// unmarshalNonNull decodes v into dst, refusing a JSON null (which
// encoding/json would silently accept).
func unmarshalNonNull(v json.RawMessage, dst any) error {
	if string(v) == "null" {
		return errors.New("null")
	}
	return json.Unmarshal(v, dst)
}

// numElements returns the product of shape, or false if it overflows int.
func numElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// checkLayout verifies that the tensors tile the data region exactly: in
// offset order, each begins where the previous ended, and the last ends at
// the end of the region. Overlaps, gaps and trailing bytes are malformed.
func (f *File) checkLayout(dataLen int64) error {
	order := slices.Clone(f.names)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := f.entries[order[i]], f.entries[order[j]]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		return a.end < b.end
	})
	var cursor int64
	prev := ""
	for _, name := range order {
		e := f.entries[name]
		switch {
		case e.begin < cursor:
			return fmt.Errorf("safetensors %s: tensor %q: data_offsets [%d, %d] overlap tensor %q ending at %d: %w", f.name, name, e.begin, e.end, prev, cursor, ErrMalformed)
		case e.begin > cursor:
			return fmt.Errorf("safetensors %s: tensor %q: data_offsets [%d, %d] leave a gap after offset %d: %w", f.name, name, e.begin, e.end, cursor, ErrMalformed)
		}
		cursor, prev = e.end, name
	}
	if cursor != dataLen {
		return fmt.Errorf("safetensors %s: tensors cover %d of the %d byte data region: %w", f.name, cursor, dataLen, ErrMalformed)
	}
	return nil
}

// decodeObject decodes a JSON object, calling fn for each member in order.
// Duplicate keys, a non-object value and trailing data are errors.
func decodeObject(data []byte, fn func(key string, value json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("JSON is not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("bad JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("bad JSON: object key is not a string")
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("bad JSON: %w", err)
		}
		if err := fn(key, value); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("bad JSON: trailing data after the object")
	}
	return nil
}

// malformed returns an ErrMalformed error naming the file.
func (f *File) malformed(problem string) error {
	return fmt.Errorf("safetensors %s: %s: %w", f.name, problem, ErrMalformed)
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	return slices.Clone(f.names)
}

// Metadata returns a copy of the header's __metadata__ string map (empty if
// there is none).
func (f *File) Metadata() map[string]string {
	out := make(map[string]string, len(f.meta))
	for k, v := range f.meta {
		out[k] = v
	}
	return out
}

// Tensor returns the named tensor. Its Data aliases the file's memory when
// the file is in memory, and is freshly read otherwise.
func (f *File) Tensor(name string) (*Tensor, error) {
	if f.closed {
		return nil, fmt.Errorf("safetensors %s: tensor %q: %w", f.name, name, fs.ErrClosed)
	}
	e, ok := f.entries[name]
	if !ok {
		return nil, fmt.Errorf("safetensors %s: tensor %q: %w", f.name, name, ErrMissingTensor)
	}
	t := &Tensor{Name: name, DType: e.dtype, Shape: slices.Clone(e.shape)}
	if f.r == nil {
		t.Data = f.data[e.begin:e.end:e.end]
		return t, nil
	}
	t.Data = alignedBytes(int(e.end - e.begin))
	if err := readFull(f.r, t.Data, f.base+e.begin); err != nil {
		return nil, fmt.Errorf("safetensors %s: tensor %q: reading data: %w", f.name, name, err)
	}
	return t, nil
}

// Close releases the file's memory mapping or reader. Tensors obtained from
// a mapped file must not be used afterwards. Closing twice is a no-op.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.data = nil
	if f.closeFn != nil {
		return f.closeFn()
	}
	return nil
}

// alignedBytes allocates n zeroed bytes aligned to 8, so that F32 and U16
// views of them are always possible.
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	words := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
}
