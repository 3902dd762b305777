package kernels

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// TestBackgroundThreadLinux checks that BackgroundThread moves the calling
// thread, and only that thread, to SCHED_IDLE.
func TestBackgroundThreadLinux(t *testing.T) {
	policy := func() uint32 {
		a, err := unix.SchedGetAttr(0, 0)
		if !assert.NoError(t, err) {
			return 1 << 31
		}
		return a.Policy
	}
	done := make(chan uint32)
	go func() {
		assert.NoError(t, BackgroundThread())
		done <- policy()
	}()
	assert.Equal(t, uint32(schedIdle), <-done)
	assert.Zero(t, policy(), "the test's own thread stays SCHED_OTHER")
}
