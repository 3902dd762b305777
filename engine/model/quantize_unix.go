//go:build unix

package model

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// releasePages tells the OS that the whole pages inside b, which must be
// part of a read-only file mapping, are not needed for now, so that they no
// longer count towards the process's resident memory (reading them again
// maps them back from the file). It returns how many bytes from the start
// of b it covered, up to the last page boundary, so that the caller can
// continue from there. Failure only leaves the pages resident, so it is
// ignored.
func releasePages(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi > lo {
		_ = unix.Madvise(b[lo-start:hi-start], unix.MADV_DONTNEED)
	}
	return int(max(hi, start) - start)
}
