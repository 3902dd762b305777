package kernels

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// schedIdle is Linux's SCHED_IDLE policy: the thread runs only when no
// normal thread wants its CPU, and a waking normal thread preempts it.
// An unprivileged thread may always move itself there.
const schedIdle = 5

// lowerThreadPriority moves the calling thread (Linux and Android) to
// SCHED_IDLE with sched_setscheduler, the classic call every libc wraps:
// Android's seccomp filter for apps allows it, where a newer call it does
// not know would kill the process.
func lowerThreadPriority() error {
	var param struct{ priority int32 } // struct sched_param; must be 0 for SCHED_IDLE
	_, _, errno := unix.Syscall(unix.SYS_SCHED_SETSCHEDULER, 0, schedIdle, uintptr(unsafe.Pointer(&param)))
	if errno != 0 {
		return errno
	}
	return nil
}
