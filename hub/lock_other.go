//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package hub

import (
	"os"
	"sync"
)

// Platforms without flock or LockFileEx (js/wasm, wasip1, plan9, solaris,
// aix) get a lock that only excludes goroutines of this process, keyed by
// the lock file's path: wasm runs one process, and the others are not
// targets of Loom's games.
var (
	heldMu sync.Mutex
	held   = map[string]bool{}
)

func tryLock(f *os.File) (bool, error) {
	heldMu.Lock()
	defer heldMu.Unlock()
	if held[f.Name()] {
		return false, nil
	}
	held[f.Name()] = true
	return true, nil
}

func unlock(f *os.File) {
	heldMu.Lock()
	defer heldMu.Unlock()
	delete(held, f.Name())
}
