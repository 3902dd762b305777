package safetensors

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse and ReadFrom: neither may panic,
// both must agree, errors must be ErrMalformed, and every tensor of an
// accepted file must have exactly the bytes its dtype and shape imply.
// Seeds: testdata/fuzz/FuzzParse (a real model header among them).
func FuzzParse(f *testing.F) {
	f.Add(buildFile(f, map[string]string{"format": "pt"},
		testTensor{"a", F32, []int{2}, f32Bytes(1, 2)},
		testTensor{"b", F16, []int{1, 2}, u16Bytes(0x3c00, 0x7c01)},
		testTensor{"c", BF16, []int{}, u16Bytes(0xff80)},
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, perr := Parse(data)
		rf, rerr := ReadFrom(bytes.NewReader(data), int64(len(data)))
		if (perr == nil) != (rerr == nil) {
			t.Fatalf("Parse error %v but ReadFrom error %v", perr, rerr)
		}
		if perr != nil {
			if !isMalformed(perr) || !isMalformed(rerr) {
				t.Fatalf("errors not ErrMalformed: %v / %v", perr, rerr)
			}
			return
		}
		names := pf.Names()
		if !slices.Equal(names, rf.Names()) {
			t.Fatalf("names differ: %v vs %v", names, rf.Names())
		}
		for _, name := range names {
			pt, err := pf.Tensor(name)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := rf.Tensor(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt.Data, rt.Data) {
				t.Fatalf("tensor %q: data differs between Parse and ReadFrom", name)
			}
			if len(pt.Data) != pt.NumElements()*pt.DType.Size() {
				t.Fatalf("tensor %q: %d bytes for %s%v", name, len(pt.Data), pt.DType, pt.Shape)
			}
			// Conversions may refuse the dtype but must not panic.
			_, _ = pt.Float32()
			_, _ = pt.F32()
			_, _ = pt.U16()
		}
	})
}

func isMalformed(err error) bool {
	return err != nil && errors.Is(err, ErrMalformed)
}
