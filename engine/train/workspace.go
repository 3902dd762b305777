package train

// workspace holds the activations of one forward pass over a batch shape
// and the scratch buffers of the backward pass. It is kept between calls
// and reallocated only when the batch shape changes.
type workspace struct {
	rows, len, n int       // batch shape; n = rows*len
	cos, sin     []float32 // RoPE tables for positions 0..len-1
	layers       []layerActs
	xf, xnf, rf  []float32 // final norm: input [n x hidden], output, inverse RMS [n]
	logits       []float32 // [n x vocab]
	tmp          []float32 // [n x hidden] projection output

	// Backward scratch.
	dx, dxn         []float32 // [n x hidden]: residual gradient, normed-input gradient
	dq, datt        []float32 // [n x qDim]
	dk, dv          []float32 // [n x kvDim]
	dgate, dup      []float32 // [n x inter]
	xT, dyT, wT, gW []float32 // transposes and a weight-gradient product
}

// layerActs are one layer's saved activations, row per token.
type layerActs struct {
	x, xn1, x2, xn2 []float32 // [n x hidden]: input, normed, after attention, normed
	r1, r2          []float32 // [n] inverse RMS of x and x2
	q, att          []float32 // [n x qDim]: post-RoPE queries, attention output
	k, v            []float32 // [n x kvDim]: post-RoPE keys, values
	probs           []float32 // [rows x heads x len x len] attention weights
	gate, up, act   []float32 // [n x inter]: projections, SwiGLU output
}

// workspaceSize returns how many float32 values workspace allocates for a
// rows x L batch (rows*L <= MaxBatchTokens and L <= the context length,
// so no product overflows).
func (m *Model) workspaceSize(rows, L int) int {
	d := m.d
	n := rows * L
	in := max(d.hidden, d.qDim, d.inter)
	out := max(in, d.vocab)
	perLayer := n*(4*d.hidden+2+2*d.qDim+2*d.kvDim+3*d.inter) + rows*d.heads*L*L
	perBatch := n*(2*d.hidden+1+d.vocab+d.hidden+2*d.hidden+2*d.qDim+2*d.kvDim+2*d.inter+in+out) + 2*in*out
	return d.layers*perLayer + perBatch
}

// workspace returns the model's workspace for a rows x L batch.
func (m *Model) workspace(rows, L int) *workspace {
	if ws := m.ws; ws != nil && ws.rows == rows && ws.len == L {
		return ws
	}
	m.ws = nil // let the old one go before allocating the new one
	d := m.d
	n := rows * L
	f := func(k int) []float32 { return make([]float32, n*k) }
	ws := &workspace{rows: rows, len: L, n: n}
	ws.cos, ws.sin = ropeTables(m.invFreq, L)
	ws.layers = make([]layerActs, d.layers)
	for l := range ws.layers {
		ws.layers[l] = layerActs{
			x: f(d.hidden), xn1: f(d.hidden), x2: f(d.hidden), xn2: f(d.hidden),
			r1: f(1), r2: f(1),
			q: f(d.qDim), att: f(d.qDim), k: f(d.kvDim), v: f(d.kvDim),
			probs: make([]float32, rows*d.heads*L*L),
			gate:  f(d.inter), up: f(d.inter), act: f(d.inter),
		}
	}
	ws.xf, ws.xnf, ws.rf = f(d.hidden), f(d.hidden), f(1)
	ws.logits = f(d.vocab)
	ws.tmp = f(d.hidden)
	ws.dx, ws.dxn = f(d.hidden), f(d.hidden)
	ws.dq, ws.datt = f(d.qDim), f(d.qDim)
	ws.dk, ws.dv = f(d.kvDim), f(d.kvDim)
	ws.dgate, ws.dup = f(d.inter), f(d.inter)
	in := max(d.hidden, d.qDim, d.inter)
	out := max(in, d.vocab)
	ws.xT = f(in)
	ws.dyT = f(out)
	ws.wT = make([]float32, in*out)
	ws.gW = make([]float32, in*out)
	m.ws = ws
	return ws
}
