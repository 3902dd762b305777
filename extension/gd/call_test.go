package gd

import (
	"io"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		t    VariantType
		want any
		ok   bool
	}{
		{"int to int64", 7, TypeInt, int64(7), true},
		{"int32 to int64", int32(-3), TypeInt, int64(-3), true},
		{"float32 to float64", float32(0.5), TypeFloat, 0.5, true},
		{"bool", true, TypeBool, true, true},
		{"nil object", nil, TypeObject, Object(0), true},
		{"object", Object(42), TypeObject, Object(42), true},
		{"string passes through", "x", TypeString, "x", true},
		{"string is not an int", "7", TypeInt, nil, false},
		{"int is not a float", 7, TypeFloat, nil, false},
		{"float is not a bool", 1.0, TypeBool, nil, false},
		{"string is not an object", "x", TypeObject, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := normalize(tc.in, tc.t)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// dirFile must follow fs.ReadDirFile: n > 0 pages and ends with io.EOF,
// n <= 0 returns the rest at once.
func TestDirFileReadDir(t *testing.T) {
	names := []string{"a", "b", "c"}
	newDir := func() *dirFile {
		d := &dirFile{name: "m"}
		for _, n := range names {
			d.entries = append(d.entries, fs.FileInfoToDirEntry(fileInfo{name: n}))
		}
		return d
	}
	d := newDir()
	var got []string
	for {
		page, err := d.ReadDir(2)
		for _, e := range page {
			got = append(got, e.Name())
		}
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.NotEmpty(t, page)
	}
	assert.Equal(t, names, got)

	d = newDir()
	all, err := d.ReadDir(0)
	require.NoError(t, err)
	assert.Len(t, all, 3)
	rest, err := d.ReadDir(-1)
	require.NoError(t, err)
	assert.Empty(t, rest)
	info, err := d.Stat()
	require.NoError(t, err)
	assert.True(t, info.IsDir())
}
