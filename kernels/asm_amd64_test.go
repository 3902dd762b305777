//go:build amd64 && !noasm

package kernels

func asmInUse() bool { return useAVX2 }
