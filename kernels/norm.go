package kernels

import (
	"fmt"
	"math"
)

// RMSNorm computes HF's LlamaRMSNorm in float32,
// weight * (x * rsqrt(mean(x^2) + eps)), as
//
//	ss := Dot(x, x)                                 // canonical order
//	inv := 1 / float32(sqrt(ss/float32(len(x)) + eps)) // sqrt correctly rounded
//	out[i] = weight[i] * (x[i] * inv)
//
// out may alias x. len(out), len(x) and len(weight) must be equal. An empty
// x leaves out untouched.
func RMSNorm(out, x, weight []float32, eps float32) {
	if len(out) != len(x) || len(weight) != len(x) {
		panic(fmt.Sprintf("kernels.RMSNorm: len(out)=%d, len(x)=%d, len(weight)=%d", len(out), len(x), len(weight)))
	}
	if len(x) == 0 {
		return
	}
	mean := dotF32(x, x) / float32(len(x))
	// float32(math.Sqrt(float64(v))) is the correctly rounded float32
	// square root: double rounding cannot occur for sqrt from 53 to 24 bits.
	inv := 1 / float32(math.Sqrt(float64(mean+eps)))
	rmsScale(out, x, weight, inv)
}

// rmsScaleGo is the pure-Go reference of RMSNorm's last step:
// out[i] = weight[i] * float32(x[i]*inv).
func rmsScaleGo(out, x, weight []float32, inv float32) {
	x, weight = x[:len(out)], weight[:len(out)]
	for i, v := range x {
		out[i] = weight[i] * float32(v*inv)
	}
}

// SiLU returns x * sigmoid(x) computed as x / (1 + Exp(-x)), the form
// PyTorch's CPU kernel uses. It is -0 for large negative x (Exp(-x) is +Inf)
// and x for large positive x; NaN stays NaN.
func SiLU(x float32) float32 {
	return x / (1 + Exp(-x))
}

// SwiGLU sets out[i] = SiLU(gate[i]) * up[i], the Llama MLP activation
// act_fn(gate_proj(x)) * up_proj(x). out may alias gate or up; all three
// lengths must be equal.
func SwiGLU(out, gate, up []float32) {
	if len(out) != len(gate) || len(up) != len(gate) {
		panic(fmt.Sprintf("kernels.SwiGLU: len(out)=%d, len(gate)=%d, len(up)=%d", len(out), len(gate), len(up)))
	}
	swiglu(out, gate, up)
}

// swigluGo is the pure-Go reference of SwiGLU's loop.
func swigluGo(out, gate, up []float32) {
	up = up[:len(gate)]
	out = out[:len(gate)]
	for i, g := range gate {
		out[i] = SiLU(g) * up[i]
	}
}

// Softmax replaces x with softmax(x) in place:
//
//	m := max(x)                       // NaN if any x[i] is NaN
//	e[i] = Exp(x[i] - m)
//	s := e summed in the canonical 8-lane order (see Dot, with e[i] for the products)
//	x[i] = e[i] / s
//
// A NaN or +Inf anywhere makes every output NaN, as does a row that is all
// -Inf (PyTorch gives NaN there too); -Inf entries among finite ones give
// exact zeros. An empty x is left alone.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	softmax(x)
}

// softmaxGo is the pure-Go reference of Softmax. Which of -0 and +0 is the
// maximum does not matter: x[i]-m and Exp then give the same bits.
func softmaxGo(x []float32) {
	m := x[0]
	for _, v := range x[1:] {
		if v != v {
			m = v
			break
		}
		if v > m {
			m = v
		}
	}
	s := softmaxExpGo(x, m)
	for i, v := range x {
		x[i] = v / s
	}
}

// softmaxExpGo is the pure-Go reference of Softmax's middle step: it sets
// x[i] = Exp(x[i] - m) and returns the sum of the new x in the canonical
// 8-lane order (lane l adds x[k] for k%8 == l in increasing k, then the
// lanes are reduced like Dot's).
func softmaxExpGo(x []float32, m float32) float32 {
	var l [8]float32
	for k, v := range x {
		e := Exp(v - m)
		x[k] = e
		l[k&7] += e
	}
	return reduceLanes(l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7])
}

// RoPE rotates every head of x in place the way HF's apply_rotary_pos_emb
// does with rotate_half: x is a whole number of heads of headDim values,
// and within each head value i pairs with value i+headDim/2. cos and sin
// hold the headDim/2 values for the current position (HF's cos and sin
// repeat them twice). For i < h = headDim/2:
//
//	x[i]   = float32(x[i]*cos[i])   - float32(x[i+h]*sin[i])
//	x[i+h] = float32(x[i+h]*cos[i]) + float32(x[i]*sin[i])
//
// which is q*cos + rotate_half(q)*sin with each product rounded, as PyTorch
// computes it. headDim must be even and positive.
func RoPE(x []float32, cos, sin []float32, headDim int) {
	if headDim <= 0 || headDim%2 != 0 || len(x)%headDim != 0 ||
		len(cos) != headDim/2 || len(sin) != headDim/2 {
		panic(fmt.Sprintf("kernels.RoPE: headDim=%d, len(x)=%d, len(cos)=%d, len(sin)=%d", headDim, len(x), len(cos), len(sin)))
	}
	rope(x, cos, sin, headDim)
}

// ropeGo is the pure-Go reference of RoPE for the pairs from i0 on of
// every head: the formula above, value by value.
func ropeGo(x []float32, cos, sin []float32, headDim, i0 int) {
	h := headDim / 2
	for base := 0; base < len(x); base += headDim {
		lo := x[base : base+h]
		hi := x[base+h : base+headDim]
		for i := i0; i < h; i++ {
			a, b := lo[i], hi[i]
			lo[i] = float32(a*cos[i]) - float32(b*sin[i])
			hi[i] = float32(b*cos[i]) + float32(a*sin[i])
		}
	}
}
