package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoIDCases are repo ids and whether Loom accepts them. TestInteropRepoIDs
// checks each against huggingface_hub's validate_repo_id: Python agrees,
// except on the stricter cases (stricter: true), which Python accepts and
// Loom rejects on purpose (no bare names, ASCII only, a bounded org).
var repoIDCases = []struct {
	id       string
	valid    bool
	stricter bool
}{
	{"HuggingFaceTB/SmolLM2-360M-Instruct", true, false},
	{"Qwen/Qwen2.5-0.5B-Instruct", true, false},
	{"meta-llama/Llama-3.2-1B", true, false},
	{"a/b", true, false},
	{"_org/_name_", true, false},
	{"org.x/name.v1", true, false},
	{"org/name--x", false, false},
	{"org/name..x", false, false},
	{"org/-name", false, false},
	{"org/name-", false, false},
	{"org/.name", false, false},
	{"org/name.", false, false},
	{"-org/name", false, false},
	{"org/na me", false, false},
	{"org/name.git", false, false},
	{"org/", false, false},
	{"/name", false, false},
	{"org/name/extra", false, false},
	{"org/n!me", false, false},
	{"gpt2", false, true},
	{"org/naïve", false, true},
	{strings.Repeat("o", 96) + "o/name", false, true},
	{"org/" + strings.Repeat("a", 96), true, false},
	{"org/" + strings.Repeat("a", 96) + "a", false, false},
}

func TestParseRepoID(t *testing.T) {
	for _, c := range repoIDCases {
		t.Run(c.id, func(t *testing.T) {
			repo, rev, err := ParseRepoID(c.id)
			if !c.valid {
				assert.ErrorIs(t, err, ErrInvalidRepoID)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.id, repo)
			assert.Equal(t, DefaultRevision, rev)
		})
	}
}

func TestParseRepoIDRevision(t *testing.T) {
	tests := []struct {
		in        string
		repo, rev string
		err       bool
	}{
		{in: "org/name@main", repo: "org/name", rev: "main"},
		{in: "org/name@v1.0", repo: "org/name", rev: "v1.0"},
		{in: "org/name@refs/pr/1", repo: "org/name", rev: "refs/pr/1"},
		{in: "org/name@0123456789abcdef0123456789abcdef01234567", repo: "org/name", rev: "0123456789abcdef0123456789abcdef01234567"},
		{in: "gpt2", err: true},
		{in: "org/name@", err: true},
		{in: "org/name@../../etc", err: true},
		{in: "org/name@/abs", err: true},
		{in: "org/name@a//b", err: true},
		{in: `org/name@a\b`, err: true},
		{in: "org/name@a\x00b", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			repo, rev, err := ParseRepoID(tt.in)
			if tt.err {
				assert.ErrorIs(t, err, ErrInvalidRepoID)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.repo, repo)
			assert.Equal(t, tt.rev, rev)
		})
	}
}

func TestIsRepoID(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "models", "tiny"), 0o755))

	assert.True(t, IsRepoID("HuggingFaceTB/SmolLM2-360M-Instruct"))
	assert.True(t, IsRepoID("org/name@refs/pr/1"))
	assert.False(t, IsRepoID("models/tiny"), "an existing local folder wins")
	assert.False(t, IsRepoID("./models/tiny"))
	assert.False(t, IsRepoID(filepath.Join(dir, "models", "tiny")))
	assert.False(t, IsRepoID("tiny"))
}

func TestCheckFilename(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"config.json", true},
		{"model-00001-of-00002.safetensors", true},
		{"onnx/model.onnx", true},
		{"../x", false},
		{"a/../x", false},
		{"a..b", false},
		{"/etc/passwd", false},
		{`a\b`, false},
		{"C:x", false},
		{"a//b", false},
		{"./a", false},
		{"a/", false},
		{"", false},
		{"a\x00b", false},
		{"a\nb", false},
		{" a", false},
		{"a.", false},
		{string(make([]byte, 2000)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFilename(tt.name)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrBadFilename)
			}
		})
	}
}
