//go:build amd64 && !noasm

package kernels

func q8AsmInUse() bool { return useQ8VNNI || useAVX2 }

// withoutQ8Asm runs f with the Q8 assembly turned off, so that the pure-Go
// kernel is tested on a machine that has the assembly too. Tests using it
// must not run in parallel.
func withoutQ8Asm(f func()) {
	oldVNNI, oldAVX2 := useQ8VNNI, useAVX2
	useQ8VNNI, useAVX2 = false, false
	defer func() { useQ8VNNI, useAVX2 = oldVNNI, oldAVX2 }()
	f()
}

// withQ8AVX2 runs f with the AVX2 Q8 kernel in place of the VNNI one,
// where the CPU has AVX2.
func withQ8AVX2(f func()) {
	old := useQ8VNNI
	useQ8VNNI = false
	defer func() { useQ8VNNI = old }()
	f()
}
