package kernels

import "golang.org/x/sys/windows"

// threadPriorityLowest is Windows' THREAD_PRIORITY_LOWEST: two levels below
// the process's normal threads, which the scheduler always runs first.
const threadPriorityLowest = -2

var setThreadPriority = windows.NewLazySystemDLL("kernel32.dll").NewProc("SetThreadPriority")

// lowerThreadPriority gives the calling thread THREAD_PRIORITY_LOWEST.
func lowerThreadPriority() error {
	thread, _ := windows.GetCurrentThread()
	priority := int32(threadPriorityLowest)
	if ok, _, err := setThreadPriority.Call(uintptr(thread), uintptr(priority)); ok == 0 {
		return err
	}
	return nil
}
