package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// File names of a Hugging Face model directory.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Bounds on a sharded index, so that a hostile index cannot make us open
// unbounded numbers of files or read an unbounded JSON document.
const (
	MaxShards    = 1024
	MaxIndexSize = 64 << 20
)

// Set is all the tensors of one model, from a single file or from the
// shards of an index. Its methods must not be called concurrently with Close.
type Set struct {
	files  []*File          // every opened file, in shard-name order
	byName map[string]*File // tensor name -> the file holding it
	names  []string
}

// opener abstracts where a Set's files come from: a directory (mmap) or an
// fs.FS.
type opener struct {
	where     string // the directory or FS, for errors
	exists    func(name string) (bool, error)
	readIndex func(name string) ([]byte, error)
	openFile  func(name string) (*File, error)
}

// OpenDir opens the model in dir: model.safetensors if present (as
// transformers prefers it), else the shards listed in
// model.safetensors.index.json. Files are memory-mapped where Open does so.
func OpenDir(dir string) (*Set, error) {
	return openSet(opener{
		where: dir,
		exists: func(name string) (bool, error) {
			_, err := os.Stat(filepath.Join(dir, name))
			if errors.Is(err, fs.ErrNotExist) {
				return false, nil
			}
			return err == nil, err
		},
		readIndex: func(name string) ([]byte, error) {
			fd, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			defer fd.Close()
			return readBounded(fd, MaxIndexSize)
		},
		openFile: func(name string) (*File, error) { return Open(filepath.Join(dir, name)) },
	})
}

// OpenFS opens the model at the root of fsys like OpenDir does; this is how
// models packed inside a Godot .pck are read. A file that implements
// io.ReaderAt is read tensor by tensor; any other file is read fully.
func OpenFS(fsys fs.FS) (*Set, error) {
	return openSet(opener{
		where: "fs",
		exists: func(name string) (bool, error) {
			_, err := fs.Stat(fsys, name)
			if errors.Is(err, fs.ErrNotExist) {
				return false, nil
			}
			return err == nil, err
		},
		readIndex: func(name string) ([]byte, error) {
			fd, err := fsys.Open(name)
			if err != nil {
				return nil, err
			}
			defer fd.Close()
			return readBounded(fd, MaxIndexSize)
		},
		openFile: func(name string) (*File, error) { return openFSFile(fsys, name) },
	})
}

// openFSFile opens one safetensors file of fsys.
func openFSFile(fsys fs.FS, name string) (*File, error) {
	fd, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", name, err)
	}
	st, err := fd.Stat()
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("safetensors %s: %w", name, err)
	}
	size := st.Size()
	if ra, ok := fd.(io.ReaderAt); ok {
		f, err := readFrom(name, ra, size, fd.Close)
		if err != nil {
			fd.Close()
		}
		return f, err
	}
	defer fd.Close()
	if size < 0 || size > math.MaxInt {
		return nil, fmt.Errorf("safetensors %s: file size %d out of range: %w", name, size, ErrMalformed)
	}
	if size < 8 {
		return nil, errTooShort(name, size)
	}
	data := alignedBytes(int(size))
	if _, err := io.ReadFull(fd, data); err != nil {
		return nil, fmt.Errorf("safetensors %s: reading: %w", name, err)
	}
	return parseBytes(name, data)
}

// readBounded reads r to the end, failing if it holds more than limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than the %d byte limit: %w", limit, ErrMalformed)
	}
	return data, nil
}

// openSet opens the single file or the sharded index through o.
func openSet(o opener) (*Set, error) {
	single, err := o.exists(SingleFileName)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", o.where, err)
	}
	if single {
		f, err := o.openFile(SingleFileName)
		if err != nil {
			return nil, err
		}
		s := &Set{files: []*File{f}, byName: map[string]*File{}, names: f.Names()}
		for _, name := range s.names {
			s.byName[name] = f
		}
		return s, nil
	}
	sharded, err := o.exists(IndexFileName)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", o.where, err)
	}
	if !sharded {
		return nil, fmt.Errorf("safetensors %s: neither %s nor %s: %w", o.where, SingleFileName, IndexFileName, fs.ErrNotExist)
	}
	data, err := o.readIndex(IndexFileName)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", IndexFileName, err)
	}
	weightMap, shards, err := parseIndex(data)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", IndexFileName, err)
	}
	s := &Set{byName: map[string]*File{}}
	shardFiles := map[string]*File{}
	for _, shard := range shards {
		f, err := o.openFile(shard)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.files = append(s.files, f)
		shardFiles[shard] = f
	}
	for name, shard := range weightMap {
		f := shardFiles[shard]
		if _, ok := f.entries[name]; !ok {
			s.Close()
			return nil, fmt.Errorf("safetensors %s: tensor %q listed in %s: %w", shard, name, IndexFileName, ErrMissingTensor)
		}
		s.byName[name] = f
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	return s, nil
}

// parseIndex validates model.safetensors.index.json and returns its
// weight_map and the sorted distinct shard names.
func parseIndex(data []byte) (map[string]string, []string, error) {
	var weightMap map[string]string
	err := decodeObject(data, func(key string, raw json.RawMessage) error {
		if key != "weight_map" {
			return nil // "metadata" and anything else carry nothing we need
		}
		weightMap = map[string]string{}
		return decodeObject(raw, func(name string, v json.RawMessage) error {
			var shard string
			if err := json.Unmarshal(v, &shard); err != nil {
				return fmt.Errorf("weight_map entry %q is not a string", name)
			}
			if !validShardName(shard) {
				return fmt.Errorf("weight_map entry %q: shard name %q is not a plain file name", name, shard)
			}
			weightMap[name] = shard
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", err, ErrMalformed)
	}
	if len(weightMap) == 0 {
		return nil, nil, fmt.Errorf("no weight_map entries: %w", ErrMalformed)
	}
	seen := map[string]bool{}
	var shards []string
	for _, shard := range weightMap {
		if !seen[shard] {
			seen[shard] = true
			shards = append(shards, shard)
		}
	}
	if len(shards) > MaxShards {
		return nil, nil, fmt.Errorf("%d shards exceed the limit of %d: %w", len(shards), MaxShards, ErrMalformed)
	}
	sort.Strings(shards)
	return weightMap, shards, nil
}

// validShardName reports whether a shard name is a plain file name inside
// the model directory: no separators, no "..", nothing absolute or
// volume-relative.
func validShardName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\:\x00")
}

// Tensor returns the named tensor from whichever file holds it.
func (s *Set) Tensor(name string) (*Tensor, error) {
	f, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: tensor %q: %w", name, ErrMissingTensor)
	}
	return f.Tensor(name)
}

// Names returns every tensor name of the model, sorted.
func (s *Set) Names() []string {
	return slices.Clone(s.names)
}

// Close closes every file of the set.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
