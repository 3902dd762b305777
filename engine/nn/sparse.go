package nn

import (
	"fmt"
	"math"
	"slices"
)

// Sparsemax is the Euclidean projection of each row onto the probability
// simplex (Martins and Astudillo 2016, "From Softmax to Sparsemax"):
//
//	y_i = max(x_i - τ, 0),  τ = (Σ_{j<=k} x_(j) - 1) / k
//
// where x_(1) >= x_(2) >= ... is the row sorted in decreasing order and k
// is the largest index with 1 + k·x_(k) > Σ_{j<=k} x_(j). Unlike softmax it
// gives exact zeros. Its gradient (the paper's eq. 14) on the support
// S = {i: y_i > 0} is dx_i = dy_i - mean_{j∈S} dy_j, and 0 off it. The
// threshold is computed in float64 (sums in sorted order), the outputs
// rounded to float32. A row holding a NaN or an infinity gives NaN.
type Sparsemax struct {
	rowState
}

// Forward implements Layer.
func (s *Sparsemax) Forward(x *Tensor) (*Tensor, error) {
	nr, n, err := rows("Sparsemax.Forward", x)
	if err != nil {
		return nil, err
	}
	y := zeros(x.Shape...)
	z := make([]float64, n)
	for r := range nr {
		xr, yr := x.Data[r*n:(r+1)*n], y.Data[r*n:(r+1)*n]
		if !sortedDesc(z, xr, 1) {
			fillNaN(yr)
			continue
		}
		var cs, tau float64
		for k, v := range z {
			cs += v
			if 1+float64(k+1)*v > cs {
				tau = (cs - 1) / float64(k+1)
			}
		}
		for i, v := range xr {
			yr[i] = float32(max(float64(v)-tau, 0))
		}
	}
	s.y = y
	return y, nil
}

// Backward implements Layer.
func (s *Sparsemax) Backward(dy *Tensor) (*Tensor, error) {
	const op = "Sparsemax.Backward"
	if s.y == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := checkGrad(op, dy, s.y.Shape); err != nil {
		return nil, err
	}
	n := s.y.Shape[len(s.y.Shape)-1]
	dx := zeros(s.y.Shape...)
	for r := range s.y.Len() / n {
		yr, dr, xr := s.y.Data[r*n:(r+1)*n], dy.Data[r*n:(r+1)*n], dx.Data[r*n:(r+1)*n]
		var sum float32
		var k int
		for i, v := range yr {
			if v > 0 || v != v {
				sum += dr[i]
				k++
			}
		}
		mean := sum / float32(k)
		for i, v := range yr {
			if v > 0 || v != v {
				xr[i] = dr[i] - mean
			}
		}
	}
	return dx, nil
}

// Params implements Layer: none.
func (s *Sparsemax) Params() []*Param { return nil }

// sortedDesc sets z to the row x times scale, in float64, sorted in
// decreasing order, and reports whether every value is finite.
func sortedDesc(z []float64, x []float32, scale float64) bool {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
		z[i] = float64(v) * scale
	}
	slices.Sort(z)
	slices.Reverse(z)
	return true
}

// Entmax15 is α-entmax with α = 1.5 (Peters, Niculae and Martins 2019,
// "Sparse Sequence-to-Sequence Models"), computed with the paper's exact
// sort-based algorithm as the authors' entmax package does: with
// z = x/2 sorted in decreasing order z_(1) >= z_(2) >= ..., for each k
//
//	μ_k = (1/k) Σ_{j<=k} z_(j),  s_k = Σ_{j<=k} (z_(j) - μ_k)²
//	τ_k = μ_k - sqrt(max((1 - s_k)/k, 0))
//
// the support size k* is the number of k with τ_k <= z_(k), and
//
//	y_i = max(z_i - τ_{k*}, 0)².
//
// Like sparsemax it gives exact zeros, but it is smoother. Its gradient,
// with u = sqrt(y) = max(z - τ, 0), is dx = u ⊙ dy - (⟨u, dy⟩ / Σu) · u.
// The threshold is computed in float64 (s_k from the running sums of z and
// z², each in sorted order), the outputs rounded to float32. A row holding
// a NaN or an infinity gives NaN.
type Entmax15 struct {
	u []float32 // max(z - τ, 0) of the latest Forward
	rowState
}

// Forward implements Layer.
func (s *Entmax15) Forward(x *Tensor) (*Tensor, error) {
	nr, n, err := rows("Entmax15.Forward", x)
	if err != nil {
		return nil, err
	}
	y := zeros(x.Shape...)
	u := make([]float32, x.Len())
	z := make([]float64, n)
	taus := make([]float64, n)
	for r := range nr {
		xr, yr, ur := x.Data[r*n:(r+1)*n], y.Data[r*n:(r+1)*n], u[r*n:(r+1)*n]
		if !sortedDesc(z, xr, 0.5) {
			fillNaN(yr)
			fillNaN(ur)
			continue
		}
		var cs, css float64
		support := 0
		for k, v := range z {
			cs += v
			css += float64(v * v)
			kf := float64(k + 1)
			mean := cs / kf
			ss := css - float64(kf*float64(mean*mean))
			delta := (1 - ss) / kf
			taus[k] = mean - math.Sqrt(max(delta, 0))
			if taus[k] <= v {
				support++
			}
		}
		tau := taus[support-1]
		for i, v := range xr {
			d := max(float64(v)*0.5-tau, 0)
			ur[i] = float32(d)
			yr[i] = float32(d * d)
		}
	}
	s.y, s.u = y, u
	return y, nil
}

// Backward implements Layer.
func (s *Entmax15) Backward(dy *Tensor) (*Tensor, error) {
	const op = "Entmax15.Backward"
	if s.y == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := checkGrad(op, dy, s.y.Shape); err != nil {
		return nil, err
	}
	n := s.y.Shape[len(s.y.Shape)-1]
	dx := zeros(s.y.Shape...)
	for r := range s.y.Len() / n {
		ur, dr, xr := s.u[r*n:(r+1)*n], dy.Data[r*n:(r+1)*n], dx.Data[r*n:(r+1)*n]
		for i, v := range ur {
			xr[i] = v * dr[i]
		}
		q := sum32(xr) / sum32(ur)
		for i, v := range ur {
			xr[i] -= float32(q * v)
		}
	}
	return dx, nil
}

// Params implements Layer: none.
func (s *Entmax15) Params() []*Param { return nil }
