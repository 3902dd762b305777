//go:build amd64 && !noasm

package kernels

func q8AsmInUse() bool { return useQ8VNNI }

// withoutQ8Asm runs f with the Q8 assembly turned off, so that the pure-Go
// kernel is tested on a machine that has the assembly too. Tests using it
// must not run in parallel.
func withoutQ8Asm(f func()) {
	old := useQ8VNNI
	useQ8VNNI = false
	defer func() { useQ8VNNI = old }()
	f()
}
