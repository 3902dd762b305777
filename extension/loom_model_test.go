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
			assert.Equal(t, source{res: tc.wantRes, dir: tc.wantDir, opts: dialogue.Options{Threads: 2, ContextLength: 64}}, src)
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
		{errors.New("disk on fire"), errFailed},
	} {
		assert.Equal(t, tc.want, errorCode(tc.err), tc.err.Error())
	}
}
