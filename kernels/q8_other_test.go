//go:build !amd64 || noasm

package kernels

func q8AsmInUse() bool { return false }

func withoutQ8Asm(f func()) { f() }

func withQ8AVX2(f func()) { f() }
