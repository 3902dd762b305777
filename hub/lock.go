package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockPoll is how often a held lock is retried (huggingface_hub's filelock
// polls every 50 ms too).
const lockPoll = 50 * time.Millisecond

// fileLock is an exclusive lock on a file shared with other processes,
// huggingface_hub's included: its FileLock takes the same kind of lock
// (flock on unix, a byte-range lock on Windows) on the same path,
// <cache>/.locks/models--org--name/<etag>.lock. The lock file is left in
// place on release, as filelock does; removing it would race.
type fileLock struct {
	f *os.File
}

// lockFile waits, polling, until it holds the lock at path or ctx ends.
func lockFile(ctx context.Context, path string) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("hub: lock: %w", err)
	}
	// Group-writable, as huggingface_hub creates them, so users sharing a
	// cache can wait on each other's locks.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o664)
	if err != nil {
		return nil, fmt.Errorf("hub: lock: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("hub: lock %s: %w", path, err)
		}
		if ok {
			return &fileLock{f: f}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("hub: waiting for lock %s: %w", path, context.Cause(ctx))
		case <-time.After(lockPoll):
		}
	}
}

// unlock releases the lock; closing the file releases it too.
func (l *fileLock) unlock() {
	unlock(l.f)
	l.f.Close()
}
