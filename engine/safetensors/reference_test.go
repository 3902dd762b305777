package safetensors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, where testdata/models lives.
const repoRoot = "../.."

// golden is testdata/golden.json, written by testdata/reference.py from
// what the Python safetensors library and torch read.
type golden struct {
	Files       map[string]goldenFile `json:"files"`
	F16All      string                `json:"f16_all_sha256"`
	BF16All     string                `json:"bf16_all_sha256"`
	F16Samples  map[string]string     `json:"f16_samples"`
	BF16Samples map[string]string     `json:"bf16_samples"`
}

type goldenFile struct {
	Metadata map[string]string       `json:"metadata"`
	Tensors  map[string]goldenTensor `json:"tensors"`
}

type goldenTensor struct {
	DType     DType  `json:"dtype"`
	Shape     []int  `json:"shape"`
	SHA256Raw string `json:"sha256_raw"`
	SHA256F32 string `json:"sha256_f32"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.Files)
	return g
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// f32Sha hashes float32 values as little-endian bits, NaNs canonicalised
// like the reference does when asked to.
func f32Sha(vals []float32, canonicalNaN bool) string {
	buf := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		bits := math.Float32bits(v)
		if canonicalNaN && v != v {
			bits = 0x7fc00000
		}
		buf = binary.LittleEndian.AppendUint32(buf, bits)
	}
	return sha(buf)
}

// checkTensor compares one tensor with the reference: dtype, shape, raw
// bytes and the float32 conversion.
func checkTensor(t *testing.T, tn *Tensor, want goldenTensor) {
	t.Helper()
	assert.Equal(t, want.DType, tn.DType, tn.Name)
	assert.Equal(t, want.Shape, tn.Shape, tn.Name)
	assert.Equal(t, want.SHA256Raw, sha(tn.Data), "%s: raw bytes", tn.Name)
	vals, err := tn.Float32()
	require.NoError(t, err)
	assert.Equal(t, want.SHA256F32, f32Sha(vals, false), "%s: float32 values", tn.Name)
	view, err := tn.F32()
	require.NoError(t, err)
	assert.Equal(t, vals, view)
	if tn.DType == F16 || tn.DType == BF16 {
		words, err := tn.U16()
		require.NoError(t, err)
		assert.Len(t, words, tn.NumElements())
	}
}

// TestGoldenCoversEveryFile makes a stale golden.json fail.
func TestGoldenCoversEveryFile(t *testing.T) {
	g := loadGolden(t)
	paths, err := filepath.Glob(filepath.Join(repoRoot, "testdata/models/*/*.safetensors"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		rel, err := filepath.Rel(repoRoot, p)
		require.NoError(t, err)
		assert.Contains(t, g.Files, filepath.ToSlash(rel), "rerun ci/reference/run.sh engine/safetensors/testdata/reference.py")
	}
}

func TestReferenceFiles(t *testing.T) {
	g := loadGolden(t)
	fileOpeners := []struct {
		name string
		open func(path string) (*File, error)
	}{
		{"Open", Open},
		{"Parse", func(p string) (*File, error) {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			return Parse(data)
		}},
		{"ReadFrom", func(p string) (*File, error) {
			fd, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { fd.Close() })
			st, err := fd.Stat()
			if err != nil {
				return nil, err
			}
			return ReadFrom(fd, st.Size())
		}},
	}
	for rel, want := range g.Files {
		for _, o := range fileOpeners {
			t.Run(rel+"/"+o.name, func(t *testing.T) {
				f, err := o.open(filepath.Join(repoRoot, filepath.FromSlash(rel)))
				require.NoError(t, err)
				defer f.Close()
				assert.Equal(t, want.Metadata, f.Metadata())
				names := make([]string, 0, len(want.Tensors))
				for name := range want.Tensors {
					names = append(names, name)
				}
				sort.Strings(names)
				require.Equal(t, names, f.Names())
				for _, name := range names {
					tn, err := f.Tensor(name)
					require.NoError(t, err)
					checkTensor(t, tn, want.Tensors[name])
				}
			})
		}
	}
}

// noReaderAtFS hides io.ReaderAt from its files, so OpenFS must read them fully.
type noReaderAtFS struct{ fs.FS }

type plainFile struct{ f fs.File }

func (p plainFile) Stat() (fs.FileInfo, error) { return p.f.Stat() }
func (p plainFile) Read(b []byte) (int, error) { return p.f.Read(b) }
func (p plainFile) Close() error               { return p.f.Close() }

func (n noReaderAtFS) Open(name string) (fs.File, error) {
	f, err := n.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return plainFile{f}, nil
}

func TestReferenceSets(t *testing.T) {
	g := loadGolden(t)
	// Group the golden files by model directory.
	dirs := map[string]map[string]goldenTensor{}
	for rel, f := range g.Files {
		dir := path.Dir(rel)
		if dirs[dir] == nil {
			dirs[dir] = map[string]goldenTensor{}
		}
		for name, tn := range f.Tensors {
			dirs[dir][name] = tn
		}
	}
	require.Contains(t, dirs, "testdata/models/llama-sharded")
	setOpeners := []struct {
		name string
		open func(dir string) (*Set, error)
	}{
		{"OpenDir", OpenDir},
		{"OpenFS", func(dir string) (*Set, error) { return OpenFS(os.DirFS(dir)) }},
		{"OpenFS without ReaderAt", func(dir string) (*Set, error) { return OpenFS(noReaderAtFS{os.DirFS(dir)}) }},
	}
	for dir, tensors := range dirs {
		for _, o := range setOpeners {
			t.Run(dir+"/"+o.name, func(t *testing.T) {
				s, err := o.open(filepath.Join(repoRoot, filepath.FromSlash(dir)))
				require.NoError(t, err)
				defer s.Close()
				names := make([]string, 0, len(tensors))
				for name := range tensors {
					names = append(names, name)
				}
				sort.Strings(names)
				require.Equal(t, names, s.Names())
				for _, name := range names {
					tn, err := s.Tensor(name)
					require.NoError(t, err)
					checkTensor(t, tn, tensors[name])
				}
				_, err = s.Tensor("lm_head.nope")
				assert.ErrorIs(t, err, ErrMissingTensor)
				assert.ErrorContains(t, err, `"lm_head.nope"`)
			})
		}
	}
}

// TestHalfConversions checks F16 and BF16 tensors of all 65536 bit patterns
// against torch's float32 conversion (NaN payloads canonicalised, since
// torch quiets signalling NaNs and Loom keeps them), and the exact bits of
// named patterns: zeros, subnormals, normals, the largest finite, infinities.
func TestHalfConversions(t *testing.T) {
	g := loadGolden(t)
	all := make([]uint16, 65536)
	for i := range all {
		all[i] = uint16(i)
	}
	for _, tt := range []struct {
		dtype   DType
		allSha  string
		samples map[string]string
		maxInf  uint16 // the infinity pattern; larger magnitudes are NaN
	}{
		{F16, g.F16All, g.F16Samples, 0x7c00},
		{BF16, g.BF16All, g.BF16Samples, 0x7f80},
	} {
		t.Run(string(tt.dtype), func(t *testing.T) {
			tn := &Tensor{Name: "all", DType: tt.dtype, Shape: []int{65536}, Data: u16Bytes(all...)}
			vals, err := tn.Float32()
			require.NoError(t, err)
			assert.Equal(t, tt.allSha, f32Sha(vals, true))
			require.NotEmpty(t, tt.samples)
			for h, want := range tt.samples {
				bits, err := strconv.ParseUint(h, 16, 16)
				require.NoError(t, err)
				assert.Equal(t, want, fmt.Sprintf("%08x", math.Float32bits(vals[bits])), "%s 0x%s", tt.dtype, h)
			}
			// NaN patterns, canonicalised in the hash, must still be NaN.
			for h := range all {
				assert.Equal(t, all[h]&0x7fff > tt.maxInf, math.IsNaN(float64(vals[h])), "0x%04x", h)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	shard := func(names ...string) []byte {
		var tensors []testTensor
		for _, n := range names {
			tensors = append(tensors, testTensor{n, F32, []int{1}, f32Bytes(1)})
		}
		return buildFile(t, nil, tensors...)
	}
	index := func(weightMap string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`{"metadata": {"total_size": 8}, "weight_map": ` + weightMap + `}`)}
	}
	manyShards := map[string]string{}
	for i := range MaxShards + 1 {
		manyShards[fmt.Sprintf("t%d", i)] = fmt.Sprintf("s%d.safetensors", i)
	}
	many, err := json.Marshal(manyShards)
	require.NoError(t, err)
	tests := []struct {
		name string
		fsys fstest.MapFS
		err  error
		msg  string
	}{
		{"empty dir", fstest.MapFS{}, fs.ErrNotExist, "neither model.safetensors nor"},
		{"bad index JSON", fstest.MapFS{IndexFileName: {Data: []byte(`{"weight_map": {`)}}, ErrMalformed, "bad JSON"},
		{"index not an object", fstest.MapFS{IndexFileName: {Data: []byte(`[]`)}}, ErrMalformed, "not an object"},
		{"no weight_map", fstest.MapFS{IndexFileName: {Data: []byte(`{"metadata": {}}`)}}, ErrMalformed, "no weight_map"},
		{"weight_map not an object", fstest.MapFS{IndexFileName: index(`["a"]`)}, ErrMalformed, "not an object"},
		{"shard not a string", fstest.MapFS{IndexFileName: index(`{"a": 1}`)}, ErrMalformed, `entry "a" is not a string`},
		{"dot-dot shard", fstest.MapFS{IndexFileName: index(`{"a": "../x.safetensors"}`)}, ErrMalformed, `"../x.safetensors"`},
		{"bare dot-dot shard", fstest.MapFS{IndexFileName: index(`{"a": ".."}`)}, ErrMalformed, "not a plain file name"},
		{"absolute shard", fstest.MapFS{IndexFileName: index(`{"a": "/etc/passwd"}`)}, ErrMalformed, "not a plain file name"},
		{"subdir shard", fstest.MapFS{IndexFileName: index(`{"a": "sub/x.safetensors"}`)}, ErrMalformed, "not a plain file name"},
		{"backslash shard", fstest.MapFS{IndexFileName: index(`{"a": "..\\x.safetensors"}`)}, ErrMalformed, "not a plain file name"},
		{"drive shard", fstest.MapFS{IndexFileName: index(`{"a": "C:x.safetensors"}`)}, ErrMalformed, "not a plain file name"},
		{"empty shard", fstest.MapFS{IndexFileName: index(`{"a": ""}`)}, ErrMalformed, "not a plain file name"},
		{"duplicate tensor", fstest.MapFS{IndexFileName: index(`{"a": "s.safetensors", "a": "t.safetensors"}`)}, ErrMalformed, `duplicate key "a"`},
		{"too many shards", fstest.MapFS{IndexFileName: index(string(many))}, ErrMalformed, "shards exceed"},
		{"missing shard file", fstest.MapFS{IndexFileName: index(`{"a": "s.safetensors"}`)}, fs.ErrNotExist, "s.safetensors"},
		{"tensor missing from shard", fstest.MapFS{
			IndexFileName:    index(`{"a": "s1.safetensors", "b": "s2.safetensors"}`),
			"s1.safetensors": {Data: shard("a")},
			"s2.safetensors": {Data: shard("a")},
		}, ErrMissingTensor, `tensor "b" listed in model.safetensors.index.json`},
		{"malformed shard", fstest.MapFS{
			IndexFileName:   index(`{"a": "s.safetensors"}`),
			"s.safetensors": {Data: []byte("garbage!garbage")},
		}, ErrMalformed, "s.safetensors"},
		{"malformed single file", fstest.MapFS{SingleFileName: {Data: []byte{1, 2}}}, ErrMalformed, "model.safetensors: truncated"},
	}
	for _, tt := range tests {
		for _, o := range []struct {
			name string
			open func(fstest.MapFS) (*Set, error)
		}{
			{"OpenFS", func(m fstest.MapFS) (*Set, error) { return OpenFS(m) }},
			{"OpenFS without ReaderAt", func(m fstest.MapFS) (*Set, error) { return OpenFS(noReaderAtFS{m}) }},
			{"OpenDir", func(m fstest.MapFS) (*Set, error) {
				dir := t.TempDir()
				require.NoError(t, os.CopyFS(dir, m))
				return OpenDir(dir)
			}},
		} {
			t.Run(tt.name+"/"+o.name, func(t *testing.T) {
				s, err := o.open(tt.fsys)
				assert.Nil(t, s)
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.err)
				assert.ErrorContains(t, err, tt.msg)
			})
		}
	}
}

func TestShardedSetIgnoresUnlistedTensors(t *testing.T) {
	m := fstest.MapFS{
		IndexFileName: {Data: []byte(`{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}`)},
		"s1.safetensors": {Data: buildFile(t, nil, testTensor{"a", F32, []int{1}, f32Bytes(1)},
			testTensor{"extra", F32, []int{1}, f32Bytes(9)})},
		"s2.safetensors": {Data: buildFile(t, nil, testTensor{"b", F32, []int{2}, f32Bytes(2, 3)})},
	}
	s, err := OpenFS(m)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, []string{"a", "b"}, s.Names())
	b, err := s.Tensor("b")
	require.NoError(t, err)
	v, err := b.Float32()
	require.NoError(t, err)
	assert.Equal(t, []float32{2, 3}, v)
	_, err = s.Tensor("extra")
	assert.ErrorIs(t, err, ErrMissingTensor)
	require.NoError(t, s.Close())
	_, err = s.Tensor("a")
	assert.ErrorIs(t, err, fs.ErrClosed)
}

func TestSingleFileWinsOverIndex(t *testing.T) {
	m := fstest.MapFS{
		SingleFileName: {Data: buildFile(t, nil, testTensor{"single", F32, []int{1}, f32Bytes(1)})},
		IndexFileName:  {Data: []byte(`{"weight_map": {"a": "missing.safetensors"}}`)},
	}
	s, err := OpenFS(m)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, []string{"single"}, s.Names())
}

func TestReadBounded(t *testing.T) {
	data, err := readBounded(strings.NewReader("12345"), 5)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(data))
	_, err = readBounded(strings.NewReader("123456"), 5)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.ErrorContains(t, err, "larger than the 5 byte limit")
}
