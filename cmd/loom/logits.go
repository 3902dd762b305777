package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

const (
	logitsSynopsis = "logits --model DIR --ids 1,2,3 --out FILE [--threads N] [--kv-cache f16]"
	logitsAbout    = `Runs the prompt ids through the model in DIR (config.json and safetensors;
no tokenizer needed) and writes the logits of every prompt position to FILE
as raw little-endian float32, [len(ids) x vocab_size], one row per position.`
)

// runLogits is `loom logits`.
func runLogits(args []string, s stdio) error {
	fs := newFlagSet("logits")
	dir := fs.String("model", "", "model `directory` or Hugging Face repo id (org/name[@rev])")
	list := fs.String("ids", "", "comma-separated prompt token `ids`")
	out := fs.String("out", "", "output `file`")
	threads := fs.Int("threads", 0, "worker threads; 0 means the number of CPUs minus one")
	kvCache := addKVCacheFlag(fs)
	pos, err := parseFlags(fs, args, s, logitsSynopsis, logitsAbout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *dir == "" || *list == "" || *out == "":
		return usagef("--model, --ids and --out are required")
	}
	ids, err := parseIDs(*list)
	if err != nil {
		return usagef("--ids: %v", err)
	}
	mdir, err := modelDir(*dir, s)
	if err != nil {
		return err
	}
	m, err := loadModel(mdir, *threads, len(ids), *kvCache)
	if err != nil {
		return err
	}
	defer m.Close()
	logits, err := m.Forward(m.NewCache(len(ids)), ids, true)
	if err != nil {
		return err
	}
	return writeFloats(*out, logits)
}

// writeFloats writes v to path as little-endian float32; a failed write
// leaves no partial file behind.
func writeFloats(path string, v []float32) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = errors.Join(err, removeIfExists(path))
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	var buf [4]byte
	for _, x := range v {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(x))
		if _, err := w.Write(buf[:]); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// removeIfExists removes path, ignoring its absence.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
