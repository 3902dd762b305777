//go:build unix

package safetensors

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// Open memory-maps the safetensors file at path read-only. Tensors alias the
// mapping and are valid until Close.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	defer fd.Close() // the mapping outlives the descriptor
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	size := st.Size()
	if size < 8 { // also keeps empty files, which cannot be mapped, from mmap
		return nil, errTooShort(path, size)
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("safetensors %s: file of %d bytes is too large to map: %w", path, size, ErrMalformed)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: mmap: %w", path, err)
	}
	f, err := parseBytes(path, data)
	if err != nil {
		_ = unix.Munmap(data)
		return nil, err
	}
	f.closeFn = func() error { return unix.Munmap(data) }
	return f, nil
}
