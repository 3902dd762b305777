package model

import (
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
)

// brokenBase is the golden model the load-error tests break copies of:
// Llama, tied embeddings, GQA, hidden 64, 4x16 query and 2x16 kv heads.
var brokenBase = filepath.Join(modelsDir, "llama-tied")

// readTensors returns copies of every tensor of a single-file model.
func readTensors(t *testing.T, dir string) []safetensors.Tensor {
	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	defer f.Close()
	var out []safetensors.Tensor
	for _, name := range f.Names() {
		tt, err := f.Tensor(name)
		require.NoError(t, err)
		out = append(out, safetensors.Tensor{Name: name, DType: tt.DType,
			Shape: append([]int(nil), tt.Shape...), Data: append([]byte(nil), tt.Data...)})
	}
	return out
}

// writeSafetensors writes tensors in the safetensors layout: an 8-byte
// little-endian header length, a JSON header padded with spaces to a
// multiple of 8, then the data in order.
func writeSafetensors(t *testing.T, path string, tensors []safetensors.Tensor) {
	type entry struct {
		DType       string `json:"dtype"`
		Shape       []int  `json:"shape"`
		DataOffsets [2]int `json:"data_offsets"`
	}
	header := map[string]entry{}
	var data []byte
	for _, tt := range tensors {
		header[tt.Name] = entry{string(tt.DType), tt.Shape, [2]int{len(data), len(data) + len(tt.Data)}}
		data = append(data, tt.Data...)
	}
	h, err := json.Marshal(header)
	require.NoError(t, err)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), data...)
	require.NoError(t, os.WriteFile(path, out, 0o644))
}

// brokenCopy copies brokenBase's config.json into a temporary folder,
// lets editConfig change its JSON object and edit change its tensors, and
// writes the result.
func brokenCopy(t *testing.T, editConfig func(map[string]any), edit func([]safetensors.Tensor) []safetensors.Tensor) string {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(brokenBase, "config.json"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(data, &cfg))
	if editConfig != nil {
		editConfig(cfg)
	}
	data, err = json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))
	tensors := readTensors(t, brokenBase)
	if edit != nil {
		tensors = edit(tensors)
	}
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), tensors)
	return dir
}

func without(name string) func([]safetensors.Tensor) []safetensors.Tensor {
	return func(ts []safetensors.Tensor) []safetensors.Tensor {
		var out []safetensors.Tensor
		for _, tt := range ts {
			if tt.Name != name {
				out = append(out, tt)
			}
		}
		return out
	}
}

func modify(name string, fn func(*safetensors.Tensor)) func([]safetensors.Tensor) []safetensors.Tensor {
	return func(ts []safetensors.Tensor) []safetensors.Tensor {
		for i := range ts {
			if ts[i].Name == name {
				fn(&ts[i])
			}
		}
		return ts
	}
}

// TestLoadErrors loads broken copies of a golden model; each must fail
// with the right sentinel error and a message naming what is wrong.
func TestLoadErrors(t *testing.T) {
	const kProj = "model.layers.0.self_attn.k_proj.weight"
	tests := []struct {
		name       string
		editConfig func(map[string]any)
		edit       func([]safetensors.Tensor) []safetensors.Tensor
		opts       Options
		want       error
		contains   []string
	}{
		{
			name:     "missing tensor",
			edit:     without("model.layers.1.mlp.up_proj.weight"),
			want:     safetensors.ErrMissingTensor,
			contains: []string{"model.layers.1.mlp.up_proj.weight"},
		},
		{
			name:     "missing final norm",
			edit:     without("model.norm.weight"),
			want:     safetensors.ErrMissingTensor,
			contains: []string{"model.norm.weight"},
		},
		{
			name: "wrong shape",
			edit: modify(kProj, func(tt *safetensors.Tensor) { tt.Shape = []int{64, 32} }),
			want: ErrShape,
			// k_proj is [kv_heads*head_dim x hidden] = [32 x 64].
			contains: []string{kProj, "[64 32]", "want [32 64]"},
		},
		{
			name:     "wrong rank",
			edit:     modify("model.layers.0.input_layernorm.weight", func(tt *safetensors.Tensor) { tt.Shape = []int{1, 64} }),
			want:     ErrShape,
			contains: []string{"model.layers.0.input_layernorm.weight", "[1 64]", "want [64]"},
		},
		{
			name:       "config disagrees with tensors",
			editConfig: func(c map[string]any) { c["intermediate_size"] = 128 },
			want:       ErrShape,
			contains:   []string{"model.layers.0.mlp.gate_proj.weight", "[160 64]", "want [128 64]"},
		},
		{
			name: "unsupported dtype",
			edit: modify(kProj, func(tt *safetensors.Tensor) {
				tt.DType = safetensors.I8
				tt.Data = tt.Data[:len(tt.Data)/4]
			}),
			want:     ErrUnsupported,
			contains: []string{kProj, "I8"},
		},
		{
			name: "unexpected tensor",
			edit: func(ts []safetensors.Tensor) []safetensors.Tensor {
				return append(ts, safetensors.Tensor{Name: "model.layers.0.mlp.gate_proj.bias", DType: safetensors.F32,
					Shape: []int{160}, Data: make([]byte, 160*4)})
			},
			want:     ErrUnexpectedTensor,
			contains: []string{"model.layers.0.mlp.gate_proj.bias"},
		},
		{
			name:       "unknown architecture",
			editConfig: func(c map[string]any) { c["architectures"] = []string{"GPT2LMHeadModel"} },
			want:       config.ErrUnsupportedArch,
			contains:   []string{"GPT2LMHeadModel"},
		},
		{
			name:     "context length beyond max_position_embeddings",
			opts:     Options{ContextLength: 1 << 20},
			want:     ErrUnsupported,
			contains: []string{"1048576"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := brokenCopy(t, tc.editConfig, tc.edit)
			m, err := Load(dir, tc.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, tc.want)
			for _, s := range tc.contains {
				assert.Contains(t, err.Error(), s)
			}

			m, err = LoadFS(os.DirFS(dir), tc.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, tc.want, "LoadFS")
		})
	}
}

// TestLoadCorruptFiles checks that damaged or missing files give errors,
// not panics.
func TestLoadCorruptFiles(t *testing.T) {
	t.Run("truncated safetensors", func(t *testing.T) {
		dir := brokenCopy(t, nil, nil)
		path := filepath.Join(dir, "model.safetensors")
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data[:len(data)/2], 0o644))
		_, err = Load(dir, Options{})
		assert.ErrorIs(t, err, safetensors.ErrMalformed)
	})
	t.Run("garbage header", func(t *testing.T) {
		dir := brokenCopy(t, nil, nil)
		path := filepath.Join(dir, "model.safetensors")
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		copy(data[8:], strings.Repeat("\xff", 32))
		require.NoError(t, os.WriteFile(path, data, 0o644))
		_, err = Load(dir, Options{})
		assert.ErrorIs(t, err, safetensors.ErrMalformed)
	})
	t.Run("no config", func(t *testing.T) {
		dir := brokenCopy(t, nil, nil)
		require.NoError(t, os.Remove(filepath.Join(dir, "config.json")))
		_, err := Load(dir, Options{})
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("no weights", func(t *testing.T) {
		dir := brokenCopy(t, nil, nil)
		require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
		_, err := Load(dir, Options{})
		assert.Error(t, err)
	})
}

// TestTiedModelIgnoresStoredHead checks that a tied model whose file also
// stores lm_head.weight loads, like transformers, with the embedding as
// the head.
func TestTiedModelIgnoresStoredHead(t *testing.T) {
	g := readGolden(t, brokenBase)
	want := loadGolden(t, brokenBase)
	wantLogits, err := want.Forward(want.NewCache(0), g.PromptIDs, false)
	require.NoError(t, err)

	dir := brokenCopy(t, nil, func(ts []safetensors.Tensor) []safetensors.Tensor {
		return append(ts, safetensors.Tensor{Name: "lm_head.weight", DType: safetensors.F32,
			Shape: []int{256, 64}, Data: make([]byte, 256*64*4)})
	})
	m, err := Load(dir, Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	got, err := m.Forward(m.NewCache(0), g.PromptIDs, false)
	require.NoError(t, err)
	assert.Equal(t, wantLogits, got)
}

// TestForwardErrors checks Forward's argument errors and that a failed
// call leaves the cache as it was.
func TestForwardErrors(t *testing.T) {
	g := readGolden(t, brokenBase)
	m, err := Load(brokenBase, Options{Threads: 1, ContextLength: 16})
	require.NoError(t, err)
	defer m.Close()
	other := loadGolden(t, brokenBase)
	require.Equal(t, 16, m.ContextLength())

	c := m.NewCache(0)
	_, err = m.Forward(c, []int{1, 2, 3}, false)
	require.NoError(t, err)

	tests := []struct {
		name   string
		cache  *Cache
		tokens []int
		want   error
	}{
		{"nil cache", nil, []int{1}, ErrCache},
		{"cache of another model", other.NewCache(0), []int{1}, ErrCache},
		{"no tokens", c, nil, ErrToken},
		{"negative id", c, []int{1, -1}, ErrToken},
		{"id past vocabulary", c, []int{g.VocabSize}, ErrToken},
		{"past context length", c, make([]int, 14), ErrContextFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Forward(tc.cache, tc.tokens, false)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, 3, c.Len(), "cache unchanged")
		})
	}

	// The context fills exactly, then refuses one more token.
	_, err = m.Forward(c, make([]int, 13), false)
	require.NoError(t, err)
	assert.Equal(t, 16, c.Len())
	_, err = m.Forward(c, []int{1}, false)
	assert.ErrorIs(t, err, ErrContextFull)

	// A smaller cache than the context length.
	small := m.NewCache(4)
	_, err = m.Forward(small, make([]int, 5), false)
	assert.ErrorIs(t, err, ErrContextFull)
}

// TestClose checks that Close is idempotent and that a closed model
// refuses Forward instead of reading unmapped memory.
func TestClose(t *testing.T) {
	m, err := Load(brokenBase, Options{Threads: 2})
	require.NoError(t, err)
	c := m.NewCache(0)
	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	_, err = m.Forward(c, []int{1}, false)
	assert.ErrorIs(t, err, ErrClosed)
}

// TestTooManyThreads checks the bound on Options.Threads.
func TestTooManyThreads(t *testing.T) {
	_, err := Load(brokenBase, Options{Threads: MaxThreads + 1})
	assert.ErrorIs(t, err, ErrUnsupported)
}
