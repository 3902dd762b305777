package kernels

import "golang.org/x/sys/unix"

// schedIdle is Linux's SCHED_IDLE policy: the thread runs only when no
// normal thread wants its CPU, and a waking normal thread preempts it.
// An unprivileged thread may always move itself there.
const schedIdle = 5

// lowerThreadPriority moves the calling thread (Linux and Android) to
// SCHED_IDLE.
func lowerThreadPriority() error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: schedIdle}, 0)
}
