package train

import (
	"math"

	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/kernels"
)

// backward propagates dlogits ([n x vocab], the gradient of the loss with
// respect to the logits of the latest forward pass) back through the model
// and adds every parameter's gradient into its Grad.
func (m *Model) backward(p *kernels.Pool, b *Batch, dlogits []float32) {
	ws := m.ws
	d := m.d
	n := ws.n

	// lm_head and the final norm.
	transpose(p, ws.xT, ws.xnf, n, d.hidden)
	linearBack(p, ws, m.head(), ws.xT, dlogits, ws.dxn, n)
	clear(ws.dx)
	rmsNormBack(p, ws.dx, m.Norm, ws.xf, ws.rf, ws.dxn)

	for l := len(m.Layers) - 1; l >= 0; l-- {
		ly := &m.Layers[l]
		la := &ws.layers[l]

		// MLP block. ws.dx is the gradient of the block's output, which
		// is also (through the residual) part of x2's.
		transpose(p, ws.xT, la.act, n, d.inter)
		linearBack(p, ws, ly.Down, ws.xT, ws.dx, ws.dgate, n) // dgate holds d(act) for now
		swigluBack(p, ws.dgate, ws.dup, la.gate, la.up, ws.dgate)
		transpose(p, ws.xT, la.xn2, n, d.hidden)
		linearBack(p, ws, ly.Gate, ws.xT, ws.dgate, ws.dxn, n)
		linearBack(p, ws, ly.Up, ws.xT, ws.dup, ws.tmp, n)
		addInto(ws.dxn, ws.tmp)
		rmsNormBack(p, ws.dx, ly.MLPNorm, la.x2, la.r2, ws.dxn)

		// Attention block; ws.dx is now the gradient of x2.
		biasBack(p, ly.OBias, ws.dx, n)
		transpose(p, ws.xT, la.att, n, d.qDim)
		linearBack(p, ws, ly.O, ws.xT, ws.dx, ws.datt, n)
		m.attentionBack(p, la, b.Rows, b.Len)
		m.ropeBack(ws.dq, d.qDim, ws)
		m.ropeBack(ws.dk, d.kvDim, ws)
		biasBack(p, ly.QBias, ws.dq, n)
		biasBack(p, ly.KBias, ws.dk, n)
		biasBack(p, ly.VBias, ws.dv, n)
		transpose(p, ws.xT, la.xn1, n, d.hidden)
		linearBack(p, ws, ly.Q, ws.xT, ws.dq, ws.dxn, n)
		linearBack(p, ws, ly.K, ws.xT, ws.dk, ws.tmp, n)
		addInto(ws.dxn, ws.tmp)
		linearBack(p, ws, ly.V, ws.xT, ws.dv, ws.tmp, n)
		addInto(ws.dxn, ws.tmp)
		rmsNormBack(p, ws.dx, ly.AttnNorm, la.x, la.r1, ws.dxn)
	}

	// Embedding rows, each token's gradient added in position order; the
	// columns are shared out, so every element's sum runs on one goroutine.
	g := m.Embed.Grad.Data
	p.For(d.hidden, func(lo, hi int) {
		for t, id := range b.Tokens {
			row := g[id*d.hidden:]
			src := ws.dx[t*d.hidden:]
			for i := lo; i < hi; i++ {
				row[i] += src[i]
			}
		}
	})
}

// linearBack is the backward pass of y = x·wᵀ (x [n x in], w [out x in],
// y [n x out]) for the upstream gradient dy [n x out], given xT = xᵀ
// [in x n]. It adds dyᵀ·x into w.Grad, each element one canonical dot
// product over the n rows (kernels.MatMul with xT as the matrix and the
// rows of dyᵀ as vectors), and sets dx = dy·w [n x in] (kernels.MatMul with
// wᵀ) unless dx is nil.
func linearBack(p *kernels.Pool, ws *workspace, w *nn.Param, xT, dy, dx []float32, n int) {
	out, in := w.Value.Shape[0], w.Value.Shape[1]
	dyT := ws.dyT[:out*n]
	transpose(p, dyT, dy[:n*out], n, out)
	g := ws.gW[:out*in]
	kernels.MatMul(p, g, &kernels.Mat{Rows: in, Cols: n, DType: kernels.F32, F32: xT[:in*n]}, dyT, out)
	addInto(w.Grad.Data, g)
	if dx == nil {
		return
	}
	wT := ws.wT[:in*out]
	transpose(p, wT, w.Value.Data, out, in)
	kernels.MatMul(p, dx[:n*in], &kernels.Mat{Rows: in, Cols: out, DType: kernels.F32, F32: wT}, dy[:n*out], n)
}

// transpose sets dst [cols x rows] to the transpose of src [rows x cols],
// in tiles for the caches, sharing out the destination rows.
func transpose(p *kernels.Pool, dst, src []float32, rows, cols int) {
	const tile = 32
	p.For((cols+tile-1)/tile, func(lo, hi int) {
		for c0 := lo * tile; c0 < min(hi*tile, cols); c0 += tile {
			c1 := min(c0+tile, cols)
			for r0 := 0; r0 < rows; r0 += tile {
				r1 := min(r0+tile, rows)
				for c := c0; c < c1; c++ {
					d := dst[c*rows:]
					for r := r0; r < r1; r++ {
						d[r] = src[r*cols+c]
					}
				}
			}
		}
	})
}

// addInto adds src into dst element by element.
func addInto(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// biasBack adds the column sums of dy (rows in increasing order) into the
// bias gradient; a nil bias does nothing.
func biasBack(p *kernels.Pool, bias *nn.Param, dy []float32, n int) {
	if bias == nil {
		return
	}
	g := bias.Grad.Data
	w := len(g)
	p.For(w, func(lo, hi int) {
		for t := range n {
			row := dy[t*w:]
			for i := lo; i < hi; i++ {
				g[i] += row[i]
			}
		}
	})
}

// rmsNormBack is the backward pass of rmsNorm for the upstream gradient dy
// of the normed rows, given the input rows x and their inverse RMS r. With
// g = dy ⊙ w and H = len(w), per row:
//
//	dx += r·g - x · (r³ · Dot(g, x) / H)
//	dw += dy ⊙ float32(x·r)   (over rows in increasing order)
//
// dx accumulates: it holds the gradient arriving through the residual
// connection.
func rmsNormBack(p *kernels.Pool, dx []float32, w *nn.Param, x, r, dy []float32) {
	h := len(w.Value.Data)
	wv, gw := w.Value.Data, w.Grad.Data
	n := len(r)
	p.For(n, func(lo, hi int) {
		g := make([]float32, h)
		for t := lo; t < hi; t++ {
			xr, dyr, dxr := x[t*h:(t+1)*h], dy[t*h:(t+1)*h], dx[t*h:(t+1)*h]
			for i, v := range dyr {
				g[i] = v * wv[i]
			}
			rt := r[t]
			c := float32(float32(float32(rt*rt)*rt)*kernels.Dot(g, xr)) / float32(h)
			for i, v := range xr {
				dxr[i] += float32(rt*g[i]) - float32(v*c)
			}
		}
	})
	p.For(h, func(lo, hi int) {
		for t := range n {
			rt := r[t]
			xr, dyr := x[t*h:], dy[t*h:]
			for i := lo; i < hi; i++ {
				gw[i] += float32(dyr[i] * float32(xr[i]*rt))
			}
		}
	})
}

// swigluBack is the backward pass of act = SiLU(gate) ⊙ up for the
// upstream gradient dact: with σ = 1/(1+Exp(-gate)),
//
//	dup   = dact · SiLU(gate)
//	dgate = dact · up · σ·(1 + gate·(1-σ))
//
// dgate may alias dact.
func swigluBack(p *kernels.Pool, dgate, dup, gate, up, dact []float32) {
	p.For(len(gate), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g, da := gate[i], dact[i]
			s := 1 / (1 + kernels.Exp(-g))
			dup[i] = float32(da * kernels.SiLU(g))
			dsilu := float32(s * (1 + float32(g*(1-s))))
			dgate[i] = float32(float32(da*up[i]) * dsilu)
		}
	})
}

// ropeBack applies the transpose of the RoPE rotation to every head of
// every row of dx (rows of width values), turning the gradient with
// respect to rotated values into the gradient with respect to the values
// before rotation: for the pair (a, b) = (x[i], x[i+headDim/2]),
//
//	da = float32(dlo*cos) + float32(dhi*sin)
//	db = float32(dhi*cos) - float32(dlo*sin)
func (m *Model) ropeBack(dx []float32, width int, ws *workspace) {
	hd := m.d.headDim
	half := hd / 2
	for t := range ws.n {
		pos := t % ws.len
		cos, sin := ws.cos[pos*half:(pos+1)*half], ws.sin[pos*half:(pos+1)*half]
		row := dx[t*width : (t+1)*width]
		for base := 0; base < width; base += hd {
			lo, hi := row[base:base+half], row[base+half:base+hd]
			for i := range lo {
				dlo, dhi := lo[i], hi[i]
				lo[i] = float32(dlo*cos[i]) + float32(dhi*sin[i])
				hi[i] = float32(dhi*cos[i]) - float32(dlo*sin[i])
			}
		}
	}
}

// attentionBack is the backward pass of attention for the upstream
// gradient ws.datt, writing the gradients of the post-RoPE queries and
// keys and of the values to ws.dq, ws.dk and ws.dv. For query head h at
// position i, with P its attention weights and c = 1/sqrt(headDim):
//
//	dP[i][j] = Dot(datt_i, v_j)
//	dS[i][j] = float32(P[i][j] * (dP[i][j] - Dot(P_i, dP_i))) * c   (0 outside i's window)
//	dq_i = sum over j of dS[i][j]·k_j
//	dk_j = sum over the group's heads h and i of dS_h[i][j]·q_i
//	dv_j = sum over the group's heads h and i of P_h[i][j]·datt_i
//
// where the dot products over the band use the band [window(i), i] and
// the three sums are each one canonical kernels.MatMul dot product (over
// all positions, the out-of-window terms being zeros), the group's heads
// concatenated along the summed axis. One goroutine handles one (sequence,
// kv head) and owns every dk and dv row it writes.
func (m *Model) attentionBack(p *kernels.Pool, la *layerActs, rows, L int) {
	ws := m.ws
	d := m.d
	hd := d.headDim
	group := d.heads / d.kvHeads
	gL := group * L
	scale := float32(1 / math.Sqrt(float64(d.headDim)))
	p.For(rows*d.kvHeads, func(lo, hi int) {
		kv := make([]float32, L*hd)      // k or v of the kv head, [L x hd]
		kT := make([]float32, hd*L)      // its keys transposed
		dO := make([]float32, L*hd)      // one head's datt
		dP := make([]float32, L*L)       // one head's dP, then dS
		dS := make([]float32, group*L*L) // every head's dS, [group][i][j]
		wT := make([]float32, hd*gL)     // [e][h*L+i]: q or datt of the group, transposed
		xT := make([]float32, L*gL)      // [j][h*L+i]: dS or P of the group, transposed
		out := make([]float32, L*hd)
		tmp := make([]float32, L*max(L, hd))
		for task := lo; task < hi; task++ {
			b, kvh := task/d.kvHeads, task%d.kvHeads
			rowOf := func(i int) int { return b*L + i }
			gather(kv, la.v, rowOf, d.kvDim, kvh*hd, hd, L)
			gather(out, la.k, rowOf, d.kvDim, kvh*hd, hd, L)
			transpose(nil, kT, out, L, hd)
			for g := range group {
				h := kvh*group + g
				probs := la.probs[(b*d.heads+h)*L*L:][:L*L]
				gather(dO, ws.datt, rowOf, d.qDim, h*hd, hd, L)
				kernels.MatMul(nil, dP, &kernels.Mat{Rows: L, Cols: hd, DType: kernels.F32, F32: kv}, dO, L)
				s := dS[g*L*L:][:L*L]
				clear(s)
				for i := range L {
					first := m.window(i)
					pr, dpr := probs[i*L:][first:i+1], dP[i*L:][first:i+1]
					sum := kernels.Dot(pr, dpr)
					sr := s[i*L:][first : i+1]
					for j, pj := range pr {
						sr[j] = float32(float32(pj*(dpr[j]-sum)) * scale)
					}
				}
				// dq = dS·k for this head.
				kernels.MatMul(nil, out, &kernels.Mat{Rows: hd, Cols: L, DType: kernels.F32, F32: kT}, s, L)
				scatter(ws.dq, out, rowOf, d.qDim, h*hd, hd, L)
				// The group's datt, transposed, and P, transposed, for dv.
				place(wT, tmp, dO, L, hd, g*L, gL)
				place(xT, tmp, probs, L, L, g*L, gL)
			}
			kernels.MatMul(nil, out, &kernels.Mat{Rows: hd, Cols: gL, DType: kernels.F32, F32: wT}, xT, L)
			scatter(ws.dv, out, rowOf, d.kvDim, kvh*hd, hd, L)
			// dk = the group's dSᵀ·q.
			for g := range group {
				gather(dO, la.q, rowOf, d.qDim, (kvh*group+g)*hd, hd, L)
				place(wT, tmp, dO, L, hd, g*L, gL)
				place(xT, tmp, dS[g*L*L:][:L*L], L, L, g*L, gL)
			}
			kernels.MatMul(nil, out, &kernels.Mat{Rows: hd, Cols: gL, DType: kernels.F32, F32: wT}, xT, L)
			scatter(ws.dk, out, rowOf, d.kvDim, kvh*hd, hd, L)
		}
	})
}

// place writes the transpose of src [rows x cols] into columns off..
// off+rows of dst (rows of stride values), through tmp.
func place(dst, tmp, src []float32, rows, cols, off, stride int) {
	transpose(nil, tmp[:rows*cols], src[:rows*cols], rows, cols)
	for c := range cols {
		copy(dst[c*stride+off:][:rows], tmp[c*rows:(c+1)*rows])
	}
}

// gather copies n rows of width values, starting at column off of rows
// rowOf(0..n-1) of src (rows of stride values), into dst [n x width].
func gather(dst, src []float32, rowOf func(int) int, stride, off, width, n int) {
	for i := range n {
		copy(dst[i*width:(i+1)*width], src[rowOf(i)*stride+off:][:width])
	}
}

// scatter is gather's inverse: it copies src [n x width] into the columns
// off.. of rows rowOf(0..n-1) of dst.
func scatter(dst, src []float32, rowOf func(int) int, stride, off, width, n int) {
	for i := range n {
		copy(dst[rowOf(i)*stride+off:][:width], src[i*width:(i+1)*width])
	}
}
