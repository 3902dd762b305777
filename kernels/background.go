package kernels

import "runtime"

// BackgroundThread locks the calling goroutine to its OS thread and moves
// that thread to the operating system's background scheduling class, so
// that every normal thread of the process (a game's main thread above all)
// runs first whenever it wakes.
//
// Why: on Linux a game's main thread that wakes for its next frame while
// an inference thread of the same process holds its CPU may wait out that
// thread's whole time slice (3-4 ms measured on a 2-vCPU VM, p99) even
// when the other CPU is idle. A thread in SCHED_IDLE is preempted at once.
// The price: a background thread gets almost no CPU while normal threads
// keep every core busy.
//
// The goroutine must return without calling runtime.UnlockOSThread: Go then
// ends the thread with it, so no other goroutine ever runs at the lowered
// priority. Where the OS offers no such class (see lowerThreadPriority),
// the thread is only locked. It returns the OS's error, if any; the thread
// is locked either way.
func BackgroundThread() error {
	runtime.LockOSThread()
	return lowerThreadPriority()
}
