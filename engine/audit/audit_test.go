package audit

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/sample"
)

// golden reads testdata/golden.txt, written by testdata/golden.sh with
// coreutils from the documented encodings (not from this package).
func golden(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden.txt"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, sum, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok, "golden line %q", sc.Text())
		out[key] = sum
	}
	require.NoError(t, sc.Err())
	return out
}

func TestModelSHA256MatchesCoreutils(t *testing.T) {
	want := golden(t)
	models := filepath.Join("..", "..", "testdata", "models")
	tests := []struct {
		name, dir string
		files     []string
	}{
		{"sharded", filepath.Join("testdata", "sharded"), []string{
			"config.json", "generation_config.json",
			"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
			"model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json"}},
		{"tiny-chat", filepath.Join(models, "tiny-chat"), []string{
			"config.json", "generation_config.json", "model.safetensors",
			"tokenizer.json", "tokenizer_config.json"}},
		{"llama-tied", filepath.Join(models, "llama-tied"), []string{
			"config.json", "generation_config.json", "model.safetensors"}},
		{"llama-sharded", filepath.Join(models, "llama-sharded"), []string{
			"config.json", "generation_config.json",
			"model-00001-of-00006.safetensors", "model-00002-of-00006.safetensors",
			"model-00003-of-00006.safetensors", "model-00004-of-00006.safetensors",
			"model-00005-of-00006.safetensors", "model-00006-of-00006.safetensors",
			"model.safetensors.index.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := os.DirFS(tc.dir)
			files, err := ModelFiles(fsys)
			require.NoError(t, err)
			assert.Equal(t, tc.files, files)
			sum, err := ModelSHA256(fsys)
			require.NoError(t, err)
			require.Contains(t, want, "model:"+tc.name)
			assert.Equal(t, want["model:"+tc.name], sum)
		})
	}
}

func TestModelFilesPrefersSingleFile(t *testing.T) {
	// engine/safetensors loads model.safetensors when it exists and then
	// ignores any index, so the index must not be hashed either.
	fsys := fstest.MapFS{
		"config.json":                  {Data: []byte("{}")},
		"model.safetensors":            {Data: []byte("w")},
		"model.safetensors.index.json": {Data: []byte("not json")},
		"other.safetensors":            {Data: []byte("x")},
	}
	files, err := ModelFiles(fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{"config.json", "model.safetensors"}, files)
}

func TestModelSHA256ChangesWithEveryHashedFile(t *testing.T) {
	base := fstest.MapFS{
		"config.json":            {Data: []byte("{}")},
		"generation_config.json": {Data: []byte("{}")},
		"tokenizer.json":         {Data: []byte("{}")},
		"tokenizer_config.json":  {Data: []byte("{}")},
		"model.safetensors":      {Data: []byte("weights")},
		"README.md":              {Data: []byte("readme")},
	}
	sum0, err := ModelSHA256(base)
	require.NoError(t, err)
	for name := range base {
		changed := fstest.MapFS{}
		for k, v := range base {
			changed[k] = &fstest.MapFile{Data: v.Data}
		}
		changed[name].Data = append(changed[name].Data, ' ')
		sum, err := ModelSHA256(changed)
		require.NoError(t, err)
		if name == "README.md" {
			assert.Equal(t, sum0, sum, "a file outside the model changed the hash")
		} else {
			assert.NotEqual(t, sum0, sum, "changing %s left the hash unchanged", name)
		}
	}
	// Moving a byte from one file to the next keeps the concatenated
	// content but must change the hash (the frames hold the lengths).
	moved := fstest.MapFS{
		"config.json":       {Data: []byte("{}w")},
		"model.safetensors": {Data: []byte("eights")},
	}
	plain := fstest.MapFS{
		"config.json":       {Data: []byte("{}")},
		"model.safetensors": {Data: []byte("weights")},
	}
	a, err := ModelSHA256(moved)
	require.NoError(t, err)
	b, err := ModelSHA256(plain)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestModelSHA256Errors(t *testing.T) {
	cfg := &fstest.MapFile{Data: []byte("{}")}
	tests := []struct {
		name string
		fsys fstest.MapFS
		want error
	}{
		{"no config", fstest.MapFS{"model.safetensors": {Data: []byte("w")}}, ErrMissingFile},
		{"no weights", fstest.MapFS{"config.json": cfg}, ErrMissingFile},
		{"index not json", fstest.MapFS{"config.json": cfg,
			"model.safetensors.index.json": {Data: []byte("{")}}, ErrMalformedIndex},
		{"index without weight_map", fstest.MapFS{"config.json": cfg,
			"model.safetensors.index.json": {Data: []byte(`{"metadata": {}}`)}}, ErrMalformedIndex},
		{"shard outside the directory", fstest.MapFS{"config.json": cfg,
			"model.safetensors.index.json": {Data: []byte(`{"weight_map": {"a": "../x.safetensors"}}`)}}, ErrMalformedIndex},
		{"shard name with newline", fstest.MapFS{"config.json": cfg,
			"model.safetensors.index.json": {Data: []byte(`{"weight_map": {"a": "x\n5"}}`)}}, ErrMalformedIndex},
		{"missing shard", fstest.MapFS{"config.json": cfg,
			"model.safetensors.index.json": {Data: []byte(`{"weight_map": {"a": "x.safetensors"}}`)}}, ErrMissingFile},
		{"index too large", fstest.MapFS{"config.json": cfg,
			"model.safetensors.index.json": {Data: bytes.Repeat([]byte(" "), MaxIndexSize+1)}}, ErrMalformedIndex},
		{"weights are a directory", fstest.MapFS{"config.json": cfg,
			"model.safetensors/x": {Data: []byte("w")}}, ErrMissingFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ModelSHA256(tc.fsys)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestModelSHA256TooManyShards(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"weight_map": {`)
	for i := 0; i <= MaxShards; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"t` + strconv.Itoa(i) + `": "s` + strconv.Itoa(i) + `.safetensors"`)
	}
	b.WriteString("}}")
	fsys := fstest.MapFS{
		"config.json":                  {Data: []byte("{}")},
		"model.safetensors.index.json": {Data: []byte(b.String())},
	}
	_, err := ModelSHA256(fsys)
	assert.ErrorIs(t, err, ErrMalformedIndex)
}

func TestInputSHA256MatchesCoreutils(t *testing.T) {
	want := golden(t)
	tests := []struct {
		name string
		in   Input
	}{
		{"zero", Input{}},
		{"full", Input{
			Prompt:      "Hi\nthere é",
			Chat:        true,
			MaxTokens:   8,
			StopStrings: []string{"</s>", "\n\n"},
			System:      "Be brief.",
			Quantize:    "q8",
			Sample: sample.Options{
				Temperature: 0.8, TopK: 40, TopP: 0.9, MinP: 0.05,
				RepeatPenalty: 1.1, PresencePenalty: -0.5, FrequencyPenalty: 0.25,
				PenaltyLastN: 64, Seed: math.MaxUint64,
			},
		}},
		{"ids", Input{
			IDs:       []int{1, -7, 31999},
			MaxTokens: 20,
			Sample:    sample.Options{Temperature: 1e-5, TopP: 1, RepeatPenalty: 1, Seed: 42},
		}},
		{"kvcache", Input{
			IDs:       []int{1, -7, 31999},
			MaxTokens: 20,
			KVCache:   "f16",
			Sample:    sample.Options{Temperature: 1e-5, TopP: 1, RepeatPenalty: 1, Seed: 42},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, want, "input:"+tc.name)
			assert.Equal(t, want["input:"+tc.name], tc.in.SHA256())
		})
	}
	// "f32" is the default cache: it hashes as an input without the key.
	for _, tc := range tests {
		if tc.name == "ids" {
			tc.in.KVCache = "f32"
			assert.Equal(t, want["input:ids"], tc.in.SHA256(), "KVCache f32")
		}
	}
}

// TestInputCoversEverySampleOption guards the canonical encoding against a
// new sample.Options field: changing any field must change the hash.
func TestInputCoversEverySampleOption(t *testing.T) {
	base := Input{}.SHA256()
	typ := reflect.TypeOf(sample.Options{})
	for i := range typ.NumField() {
		var o sample.Options
		f := reflect.ValueOf(&o).Elem().Field(i)
		switch f.Kind() {
		case reflect.Float32:
			f.SetFloat(0.5)
		case reflect.Int:
			f.SetInt(3)
		case reflect.Uint64:
			f.SetUint(3)
		default:
			t.Fatalf("sample.Options.%s has kind %s, which Canonical does not encode", typ.Field(i).Name, f.Kind())
		}
		assert.NotEqual(t, base, Input{Sample: o}.SHA256(), "sample.Options.%s does not change input_sha256", typ.Field(i).Name)
	}
}

func TestInputEncodingIsUnambiguous(t *testing.T) {
	tests := []struct {
		name  string
		a, b  Input
		equal bool
	}{
		{"one stop vs two", Input{StopStrings: []string{"a:1:b"}}, Input{StopStrings: []string{"a", "b"}}, false},
		{"empty stop vs none", Input{StopStrings: []string{""}}, Input{}, false},
		{"ids 12 vs 1 2", Input{IDs: []int{12}}, Input{IDs: []int{1, 2}}, false},
		{"prompt forging a key", Input{Prompt: "x\nrepeat_penalty=0\nseed=0\nstop=0\nsystem=1:s"}, Input{Prompt: "x", System: "s"}, false},
		{"empty ids list is no ids", Input{IDs: []int{}}, Input{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.equal {
				assert.Equal(t, tc.a.SHA256(), tc.b.SHA256())
			} else {
				assert.NotEqual(t, tc.a.SHA256(), tc.b.SHA256())
			}
		})
	}
}

func TestLogitsHashMatchesCoreutils(t *testing.T) {
	want := golden(t)
	l := NewLogitsHash()
	assert.Equal(t, want["logits:none"], l.Sum())
	l.Add([]float32{1, -2.5, float32(math.Copysign(0, -1))})
	l.Add([]float32{0.1, float32(math.Inf(1)), 65504})
	assert.Equal(t, want["logits:two"], l.Sum())
	assert.Equal(t, 2, l.Steps())
}

func TestLogitsHashSeesEveryBit(t *testing.T) {
	a, b := NewLogitsHash(), NewLogitsHash()
	a.Add([]float32{1})
	b.Add([]float32{math.Nextafter32(1, 2)})
	assert.NotEqual(t, a.Sum(), b.Sum(), "one ulp")
	a, b = NewLogitsHash(), NewLogitsHash()
	a.Add([]float32{0})
	b.Add([]float32{float32(math.Copysign(0, -1))})
	assert.NotEqual(t, a.Sum(), b.Sum(), "sign of zero")
}

// TestGoldenScriptIsCurrent reruns testdata/golden.sh (coreutils) so the
// committed golden.txt cannot drift from the script that documents it.
func TestGoldenScriptIsCurrent(t *testing.T) {
	for _, tool := range []string{"sh", "sha256sum", "stat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not available: %v", tool, err)
		}
	}
	out, err := exec.Command("sh", filepath.Join("testdata", "golden.sh")).Output()
	require.NoError(t, err)
	committed, err := os.ReadFile(filepath.Join("testdata", "golden.txt"))
	require.NoError(t, err)
	assert.Equal(t, string(committed), string(out))
}
