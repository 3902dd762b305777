package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testTensor is one tensor for buildFile.
type testTensor struct {
	name  string
	dtype DType
	shape []int
	data  []byte
}

// buildFile writes a valid safetensors file the way the Python library
// lays it out: tensors back to back in the given order, header padded with
// spaces to a multiple of 8.
func buildFile(t testing.TB, meta map[string]string, tensors ...testTensor) []byte {
	t.Helper()
	header := map[string]any{}
	if meta != nil {
		header["__metadata__"] = meta
	}
	var data []byte
	for _, tt := range tensors {
		shape := tt.shape
		if shape == nil {
			shape = []int{}
		}
		header[tt.name] = map[string]any{
			"dtype":        tt.dtype,
			"shape":        shape,
			"data_offsets": []int{len(data), len(data) + len(tt.data)},
		}
		data = append(data, tt.data...)
	}
	h, err := json.Marshal(header)
	require.NoError(t, err)
	return rawFile(string(h), data)
}

// rawFile assembles a file from a literal header (padded with spaces to a
// multiple of 8) and data region, valid or not.
func rawFile(header string, data []byte) []byte {
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// f32Bytes encodes float32 values little-endian.
func f32Bytes(vals ...float32) []byte {
	var out []byte
	for _, v := range vals {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// u16Bytes encodes 16-bit words little-endian.
func u16Bytes(vals ...uint16) []byte {
	var out []byte
	for _, v := range vals {
		out = binary.LittleEndian.AppendUint16(out, v)
	}
	return out
}
