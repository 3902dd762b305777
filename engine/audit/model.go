package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// File names read by ModelSHA256. They are the files that decide a model's
// output in Loom: the config, the generation defaults, the tokenizer and
// the weights exactly as engine/safetensors loads them (model.safetensors
// when present, else the index and the shards it names).
const (
	ConfigFile           = "config.json"
	GenerationConfigFile = "generation_config.json"
	TokenizerFile        = "tokenizer.json"
	TokenizerConfigFile  = "tokenizer_config.json"
	WeightsFile          = "model.safetensors"
	WeightsIndexFile     = "model.safetensors.index.json"
)

// Bounds on what a hostile model directory can make ModelSHA256 do.
const (
	// MaxIndexSize bounds model.safetensors.index.json, which is read
	// into memory to learn the shard names.
	MaxIndexSize = 64 << 20
	// MaxShards bounds the number of distinct shards an index may name.
	MaxShards = 1024
)

// Errors returned by ModelSHA256 and ModelFiles, usable with errors.Is.
var (
	// ErrMissingFile reports a model directory without config.json or
	// without weights (neither model.safetensors nor the index), or an
	// index naming a shard that is not there.
	ErrMissingFile = errors.New("audit: missing model file")
	// ErrMalformedIndex reports a model.safetensors.index.json that is not
	// a JSON object with a non-empty weight_map of plain shard file names,
	// or that exceeds MaxIndexSize or MaxShards.
	ErrMalformedIndex = errors.New("audit: malformed safetensors index")
	// ErrChanged reports a file whose length changed while it was hashed.
	ErrChanged = errors.New("audit: file changed while hashing")
)

// ModelFiles returns the files of the model in fsys that ModelSHA256
// hashes, in the order it hashes them: config.json, and when present
// generation_config.json, tokenizer.json and tokenizer_config.json, plus
// the weights (model.safetensors, or model.safetensors.index.json and every
// shard its weight_map names), all sorted by name (byte order). Other files
// in the directory (README, goldens, a stray copy of the weights) do not
// change the model's output and are left out.
func ModelFiles(fsys fs.FS) ([]string, error) {
	files := []string{}
	for _, name := range []string{ConfigFile, GenerationConfigFile, TokenizerFile, TokenizerConfigFile} {
		ok, err := exists(fsys, name)
		if err != nil {
			return nil, err
		}
		if ok {
			files = append(files, name)
		} else if name == ConfigFile {
			return nil, fmt.Errorf("audit: %s: %w", name, ErrMissingFile)
		}
	}
	single, err := exists(fsys, WeightsFile)
	if err != nil {
		return nil, err
	}
	if single {
		files = append(files, WeightsFile)
	} else {
		indexed, err := exists(fsys, WeightsIndexFile)
		if err != nil {
			return nil, err
		}
		if !indexed {
			return nil, fmt.Errorf("audit: neither %s nor %s: %w", WeightsFile, WeightsIndexFile, ErrMissingFile)
		}
		shards, err := indexShards(fsys)
		if err != nil {
			return nil, err
		}
		files = append(files, WeightsIndexFile)
		files = append(files, shards...)
	}
	slices.Sort(files)
	return files, nil
}

// ModelSHA256 returns model_sha256, the lowercase hex SHA-256 of the files
// ModelFiles lists, each framed by its name and length so that no two
// different file sets hash the same bytes:
//
//	for each file, in ModelFiles order:
//	    name "\n" decimal-byte-length "\n" content
//
// The same value comes from coreutils, in the model directory:
//
//	for f in FILES; do printf '%s\n%s\n' "$f" "$(stat -c %s "$f")"; cat "$f"; done | sha256sum
func ModelSHA256(fsys fs.FS) (string, error) {
	files, err := ModelFiles(fsys)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range files {
		if err := hashFile(h, fsys, name); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile writes one framed file into h, checking that the bytes read
// match the length written in the frame.
func hashFile(h io.Writer, fsys fs.FS, name string) error {
	f, err := fsys.Open(name)
	if err != nil {
		return fmt.Errorf("audit: %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("audit: %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("audit: %s is not a regular file: %w", name, ErrMissingFile)
	}
	size := st.Size()
	if _, err := io.WriteString(h, name+"\n"+strconv.FormatInt(size, 10)+"\n"); err != nil {
		return err
	}
	// Read one byte past the stated size so that a file that grew is caught.
	n, err := io.Copy(h, io.LimitReader(f, size+1))
	if err != nil {
		return fmt.Errorf("audit: reading %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("audit: %s: %d bytes read, %d stated: %w", name, n, size, ErrChanged)
	}
	return nil
}

// indexShards reads model.safetensors.index.json and returns the distinct
// shard names of its weight_map, checking that each exists.
func indexShards(fsys fs.FS) ([]string, error) {
	f, err := fsys.Open(WeightsIndexFile)
	if err != nil {
		return nil, fmt.Errorf("audit: %s: %w", WeightsIndexFile, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxIndexSize+1))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("audit: reading %s: %w", WeightsIndexFile, err)
	}
	if len(data) > MaxIndexSize {
		return nil, fmt.Errorf("audit: %s is over %d bytes: %w", WeightsIndexFile, MaxIndexSize, ErrMalformedIndex)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("audit: %s: %w: %w", WeightsIndexFile, err, ErrMalformedIndex)
	}
	if len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("audit: %s: no weight_map entries: %w", WeightsIndexFile, ErrMalformedIndex)
	}
	// Map order does not matter: ModelFiles sorts the names.
	seen := map[string]bool{}
	var shards []string
	for _, shard := range index.WeightMap {
		if !seen[shard] {
			seen[shard] = true
			if !plainName(shard) {
				return nil, fmt.Errorf("audit: %s: shard name %q is not a plain file name: %w", WeightsIndexFile, shard, ErrMalformedIndex)
			}
			if len(shards) == MaxShards {
				return nil, fmt.Errorf("audit: %s names over %d shards: %w", WeightsIndexFile, MaxShards, ErrMalformedIndex)
			}
			shards = append(shards, shard)
		}
	}
	for _, shard := range shards {
		ok, err := exists(fsys, shard)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("audit: shard %s named in %s: %w", shard, WeightsIndexFile, ErrMissingFile)
		}
	}
	return shards, nil
}

// plainName reports whether a shard name is a file directly in the model
// directory, and one whose "\n"-terminated frame cannot be ambiguous.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\:\x00\n")
}

// exists reports whether name exists in fsys.
func exists(fsys fs.FS, name string) (bool, error) {
	_, err := fs.Stat(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit: %s: %w", name, err)
	}
	return true, nil
}
