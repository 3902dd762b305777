//go:build !linux && !windows

package kernels

// lowerThreadPriority does nothing here: macOS and iOS would need
// pthread's QoS classes (cgo), and wasm has no threads.
func lowerThreadPriority() error { return nil }
