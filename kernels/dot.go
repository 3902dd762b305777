package kernels

// Dot returns the canonical dot product of a and b, which must have the
// same length. It is the one summation order every kernel in this package
// reproduces: eight lanes, lane l accumulating in increasing k the products
// float32(a[k]*b[k]) of the indices with k%8 == l, starting from +0; then
//
//	((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7))
//
// Each product and each sum is rounded to float32 separately (no fused
// multiply-add). A tail shorter than eight is summed as if zero-padded;
// since a lane starting at +0 can never hold -0, the padding needs no code.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("kernels.Dot: length mismatch")
	}
	return dotF32(a, b)
}

// dotGo is the pure-Go reference of Dot, spelled out lane by lane.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var l0, l1, l2, l3, l4, l5, l6, l7 float32
	k := 0
	for ; k+8 <= len(a); k += 8 {
		l0 += float32(a[k] * b[k])
		l1 += float32(a[k+1] * b[k+1])
		l2 += float32(a[k+2] * b[k+2])
		l3 += float32(a[k+3] * b[k+3])
		l4 += float32(a[k+4] * b[k+4])
		l5 += float32(a[k+5] * b[k+5])
		l6 += float32(a[k+6] * b[k+6])
		l7 += float32(a[k+7] * b[k+7])
	}
	var t [8]float32
	copy(t[:], a[k:])
	var u [8]float32
	copy(u[:], b[k:])
	for j := range len(a) - k {
		t[j] = float32(t[j] * u[j])
	}
	return reduceLanes(l0+t[0], l1+t[1], l2+t[2], l3+t[3], l4+t[4], l5+t[5], l6+t[6], l7+t[7])
}

// reduceLanes is the canonical final reduction of the eight lanes.
func reduceLanes(l0, l1, l2, l3, l4, l5, l6, l7 float32) float32 {
	return ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
}

// dotF16Go is dotGo with a converted exactly by F16ToF32: the canonical
// dot product of a row of binary16 weights with x.
func dotF16Go(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	var l0, l1, l2, l3, l4, l5, l6, l7 float32
	k := 0
	for ; k+8 <= len(w); k += 8 {
		l0 += float32(F16ToF32(w[k]) * x[k])
		l1 += float32(F16ToF32(w[k+1]) * x[k+1])
		l2 += float32(F16ToF32(w[k+2]) * x[k+2])
		l3 += float32(F16ToF32(w[k+3]) * x[k+3])
		l4 += float32(F16ToF32(w[k+4]) * x[k+4])
		l5 += float32(F16ToF32(w[k+5]) * x[k+5])
		l6 += float32(F16ToF32(w[k+6]) * x[k+6])
		l7 += float32(F16ToF32(w[k+7]) * x[k+7])
	}
	var t [8]float32
	for j := range len(w) - k {
		t[j] = float32(F16ToF32(w[k+j]) * x[k+j])
	}
	return reduceLanes(l0+t[0], l1+t[1], l2+t[2], l3+t[3], l4+t[4], l5+t[5], l6+t[6], l7+t[7])
}

// dotBF16Go is dotGo with a converted exactly by BF16ToF32.
func dotBF16Go(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	var l0, l1, l2, l3, l4, l5, l6, l7 float32
	k := 0
	for ; k+8 <= len(w); k += 8 {
		l0 += float32(BF16ToF32(w[k]) * x[k])
		l1 += float32(BF16ToF32(w[k+1]) * x[k+1])
		l2 += float32(BF16ToF32(w[k+2]) * x[k+2])
		l3 += float32(BF16ToF32(w[k+3]) * x[k+3])
		l4 += float32(BF16ToF32(w[k+4]) * x[k+4])
		l5 += float32(BF16ToF32(w[k+5]) * x[k+5])
		l6 += float32(BF16ToF32(w[k+6]) * x[k+6])
		l7 += float32(BF16ToF32(w[k+7]) * x[k+7])
	}
	var t [8]float32
	for j := range len(w) - k {
		t[j] = float32(BF16ToF32(w[k+j]) * x[k+j])
	}
	return reduceLanes(l0+t[0], l1+t[1], l2+t[2], l3+t[3], l4+t[4], l5+t[5], l6+t[6], l7+t[7])
}
