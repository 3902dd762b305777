//go:build unix

package model

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestReleasePages checks that releasePages drops exactly the whole pages
// inside its range and reports how far it got. An anonymous private
// mapping reads back zeros where pages were dropped, which shows which
// ones were.
func TestReleasePages(t *testing.T) {
	page := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 4*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	require.NoError(t, err)
	defer unix.Munmap(mem)
	for i := range mem {
		mem[i] = 1
	}
	tests := []struct {
		name     string
		lo, hi   int // the range passed, in bytes of mem
		covered  int // what releasePages must return
		dropFrom int // the pages [dropFrom, dropTo) must read back zero
		dropTo   int
	}{
		{"inside one page", 10, 100, 0, 0, 0},
		{"unaligned", 100, 3*page + 50, 3*page - 100, page, 3 * page},
		{"aligned", 3 * page, 4 * page, page, 3 * page, 4 * page},
		{"empty", 5, 5, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range mem {
				mem[i] = 1
			}
			assert.Equal(t, tc.covered, releasePages(mem[tc.lo:tc.hi]))
			for i, b := range mem {
				want := byte(1)
				if i >= tc.dropFrom && i < tc.dropTo {
					want = 0
				}
				if b != want {
					t.Fatalf("byte %d is %d, want %d", i, b, want)
				}
			}
		})
	}
}
