package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/extension/dialogue"
	"github.com/loomai/loom/hub"
)

// model_path forms that need no Godot call to classify.
func TestSource(t *testing.T) {
	abs, err := filepath.Abs("models")
	require.NoError(t, err)
	for _, tc := range []struct {
		path     string
		wantRes  string
		wantDir  string
		wantCode int
	}{
		{"res://models/wizard", "res://models/wizard", "", errOK},
		{abs, "", abs, errOK},
		{"", "", "", errUnconfigured},
		{"models/wizard", "", "", errInvalidParameter},
		{"http://example.com/model", "", "", errInvalidParameter},
	} {
		t.Run(tc.path, func(t *testing.T) {
			l := &loomModel{path: tc.path, threads: 2, contextLength: 64}
			src, code, err := l.source()
			assert.Equal(t, tc.wantCode, code)
			if tc.wantCode != errOK {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, source{res: tc.wantRes, dir: tc.wantDir, opts: dialogue.Options{Threads: 2, Background: true, ContextLength: 64}}, src)
		})
	}
}

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("load: %w", dialogue.ErrNoModel), errFileNotFound},
		{fmt.Errorf("config: %w", config.ErrUnsupportedArch), errFileUnrecognized},
		{fmt.Errorf("weights: %w", safetensors.ErrMalformed), errFileCorrupt},
		{fmt.Errorf("resolve: %w", hub.ErrNotCached), errFileNotFound},
		{fmt.Errorf("resolve: %w", hub.ErrRepoNotFound), errFileNotFound},
		{fmt.Errorf("resolve: %w", hub.ErrUnauthorized), errUnauthorized},
		{fmt.Errorf("download: %w", hub.ErrChecksum), errFileCorrupt},
		{errors.New("disk on fire"), errFailed},
	} {
		assert.Equal(t, tc.want, errorCode(tc.err), tc.err.Error())
	}
}

// model_id forms with an absolute cache_dir (user:// needs Godot), and the
// environment variables huggingface_hub reads, which still apply.
func TestHubSource(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
	t.Setenv("HF_TOKEN", "hf_secret")
	t.Setenv("HF_HUB_OFFLINE", "1")
	for _, tc := range []struct {
		name            string
		path, id, cache string
		wantRepo        string
		wantCode        int
	}{
		{"repo id", "", "HuggingFaceTB/SmolLM2-360M-Instruct", cache, "HuggingFaceTB/SmolLM2-360M-Instruct", errOK},
		{"revision", "", "loom/tiny-chat@v1", cache, "loom/tiny-chat@v1", errOK},
		{"model_path wins", "res://models/wizard", "loom/tiny-chat", cache, "", errOK},
		{"not a repo id", "", "tiny chat", cache, "", errInvalidParameter},
		{"relative cache_dir", "", "loom/tiny-chat", "cache", "", errInvalidParameter},
		{"res:// cache_dir", "", "loom/tiny-chat", "res://cache", "", errInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &loomModel{path: tc.path, modelID: tc.id, cacheDir: tc.cache}
			src, code, err := l.source()
			assert.Equal(t, tc.wantCode, code)
			if tc.wantCode != errOK {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantRepo, src.repo)
			if tc.wantRepo == "" {
				return
			}
			assert.Equal(t, cache, src.hub.CacheDir)
			assert.Equal(t, "http://127.0.0.1:9", src.hub.Endpoint)
			assert.Equal(t, "hf_secret", src.hub.Token)
			assert.True(t, src.hub.Offline)
		})
	}
}
