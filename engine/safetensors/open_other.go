//go:build !unix

package safetensors

import (
	"fmt"
	"io"
	"math"
	"os"
)

// Open reads the safetensors file at path into memory (this platform has no
// mmap support here). Tensors alias that memory.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	if st.Size() > math.MaxInt {
		return nil, fmt.Errorf("safetensors %s: file of %d bytes is too large to read: %w", path, st.Size(), ErrMalformed)
	}
	data := alignedBytes(int(st.Size()))
	if _, err := io.ReadFull(fd, data); err != nil {
		return nil, fmt.Errorf("safetensors %s: reading: %w", path, err)
	}
	return parseBytes(path, data)
}
