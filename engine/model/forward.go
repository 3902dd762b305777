package model

import (
	"fmt"
	"math"

	"github.com/loomai/loom/kernels"
)

// Forward appends tokens to the sequence in c, at positions c.Len() on,
// and returns float32 logits: for the last token only ([vocab]) or, with
// allLogits, for every token ([len(tokens) x vocab], row t for tokens[t]).
// The returned slice is new and belongs to the caller.
//
// All tokens go through the model in one pass (the projections use
// kernels.MatMul over all of them; a single token uses kernels.MatVec), and
// the result equals that of feeding them one at a time: every output
// element is the same canonical dot product either way.
//
// Errors: ErrClosed after Close, ErrCache for a nil cache or one from
// another model, ErrToken for an empty list or an id outside the
// vocabulary, ErrContextFull when the cache has no room for all tokens. On
// error the cache is unchanged.
func (m *Model) Forward(c *Cache, tokens []int, allLogits bool) ([]float32, error) {
	return m.forward(c, tokens, allLogits, false)
}

// Next is Forward for a generation loop: it returns the logits of the last
// position in a buffer that belongs to c and is overwritten by the next
// call of Next on c. A decode step then allocates nothing, which keeps the
// garbage collector (and its pauses in a game's frames) out of generation.
func (m *Model) Next(c *Cache, tokens []int) ([]float32, error) {
	return m.forward(c, tokens, false, true)
}

// forward is Forward; reuse puts the logits in c's own buffer.
func (m *Model) forward(c *Cache, tokens []int, allLogits, reuse bool) ([]float32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("model: forward: %w", ErrClosed)
	}
	if c == nil || c.m != m {
		return nil, fmt.Errorf("model: forward: %w", ErrCache)
	}
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("model: forward: no tokens: %w", ErrToken)
	}
	for i, id := range tokens {
		if id < 0 || id >= m.d.vocab {
			return nil, fmt.Errorf("model: forward: token %d is %d, vocabulary has %d: %w", i, id, m.d.vocab, ErrToken)
		}
	}
	pos0 := c.n
	if n > c.maxLen-pos0 {
		return nil, fmt.Errorf("model: forward: %d tokens after %d cached exceed the cache length %d: %w", n, pos0, c.maxLen, ErrContextFull)
	}
	c.reserve(pos0 + n)
	s := c.scratch(n)
	d := m.d

	for t, id := range tokens {
		m.embedRow(s.x[t*d.hidden:(t+1)*d.hidden], id)
	}
	half := d.headDim / 2
	for t := range n {
		ropeAt(s.cos[t*half:(t+1)*half], s.sin[t*half:(t+1)*half], m.invFreq, pos0+t)
	}
	for l := range m.Layers {
		m.layer(c, l, s, pos0, n)
	}

	// Final norm and lm_head, for every row or only the last.
	first := n - 1
	if allLogits {
		first = 0
	}
	rows := n - first
	for t := first; t < n; t++ {
		kernels.RMSNorm(s.xb[t*d.hidden:(t+1)*d.hidden], s.x[t*d.hidden:(t+1)*d.hidden], m.Norm, d.eps)
	}
	var logits []float32
	if reuse {
		if len(c.logits) != d.vocab {
			c.logits = make([]float32, d.vocab)
		}
		logits = c.logits
	} else {
		logits = make([]float32, rows*d.vocab)
	}
	m.project(logits, m.LMHead, s.xb[first*d.hidden:n*d.hidden], rows)
	c.n += n
	return logits, nil
}

// layer runs decoder layer l over the n tokens in s.x (positions pos0 on),
// in place, storing their keys and values in c.
func (m *Model) layer(c *Cache, l int, s *scratch, pos0, n int) {
	d := m.d
	ly := &m.Layers[l]
	half := d.headDim / 2

	// Attention block: x += o_proj(attention(rope(q), rope(k), v)).
	for t := range n {
		kernels.RMSNorm(s.xb[t*d.hidden:(t+1)*d.hidden], s.x[t*d.hidden:(t+1)*d.hidden], ly.AttnNorm, d.eps)
	}
	m.project(s.q, &ly.Attn.Q, s.xb, n)
	m.project(s.k, &ly.Attn.K, s.xb, n)
	m.project(s.v, &ly.Attn.V, s.xb, n)
	addBias(s.q, ly.Attn.QBias)
	addBias(s.k, ly.Attn.KBias)
	addBias(s.v, ly.Attn.VBias)
	for t := range n {
		cos, sin := s.cos[t*half:(t+1)*half], s.sin[t*half:(t+1)*half]
		kernels.RoPE(s.q[t*d.qDim:(t+1)*d.qDim], cos, sin, d.headDim)
		kernels.RoPE(s.k[t*d.kvDim:(t+1)*d.kvDim], cos, sin, d.headDim)
	}
	c.store(l, s.k, s.v, pos0, n)
	m.attention(s.att, s.q, c, l, pos0, n)
	m.project(s.tmp, &ly.Attn.O, s.att, n)
	addBias(s.tmp, ly.Attn.OBias)
	addInto(s.x, s.tmp)

	// MLP block: x += down(SiLU(gate(x')) * up(x')), x' = RMSNorm(x).
	for t := range n {
		kernels.RMSNorm(s.xb[t*d.hidden:(t+1)*d.hidden], s.x[t*d.hidden:(t+1)*d.hidden], ly.MLPNorm, d.eps)
	}
	m.project(s.gate, &ly.MLP.Gate, s.xb, n)
	m.project(s.up, &ly.MLP.Up, s.xb, n)
	if n == 1 {
		kernels.SwiGLU(s.gate, s.gate, s.up)
	} else { // element-wise: each token's values on one goroutine, whatever the split
		m.pool.For(n, func(lo, hi int) {
			kernels.SwiGLU(s.gate[lo*d.inter:hi*d.inter], s.gate[lo*d.inter:hi*d.inter], s.up[lo*d.inter:hi*d.inter])
		})
	}
	m.project(s.tmp, &ly.MLP.Down, s.gate, n)
	addInto(s.x, s.tmp)
}

// attention computes causal (optionally sliding-window) grouped-query
// attention for n queries at positions pos0.. against layer l's keys and
// values in c (which already hold those positions). For query head h at
// position p, with kv head h/(heads/kvHeads), k[j] and v[j] its cached key
// and value at position j converted exactly to float32:
//
//	s[j] = float32(Dot(q, k[j]) * 1/sqrt(headDim))  for j in [first, p]
//	softmax(s)
//	out = sum over j, in increasing j, of float32(s[j]*v[j])
//
// where first = 0, or p-window+1 with a sliding window (HF keeps key j
// when j > p - sliding_window). The keys and values of kv head g at
// positions [first, p] are consecutive rows of the cache (cache.go), so the
// dot products are one kernels.DotRows call (each the canonical Dot, f16
// rows converted exactly inside the kernel) and the values' weighted sum
// one kernels.WeightedSum. Each (token, head) pair is computed by one goroutine,
// so the result does not depend on the thread count.
//
// A decode step (n == 1) uses the cache's buffer for the attention
// weights, so it allocates nothing; a prefill's goroutines allocate their
// own.
func (m *Model) attention(out, q []float32, c *Cache, l, pos0, n int) {
	d, hd := m.d, m.d.headDim
	group := d.heads / d.kvHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	span := pos0 + n
	scores := c.decodeScores(n)
	kc, vc := &c.k[l], &c.v[l]
	m.pool.For(n*d.heads, func(lo, hi int) {
		var own []float32
		if scores == nil {
			own = make([]float32, span)
		}
		for i := lo; i < hi; i++ {
			t, h := i/d.heads, i%d.heads
			p := pos0 + t
			first := 0
			if d.window > 0 {
				first = max(p-d.window+1, 0)
			}
			sc := own
			if scores != nil {
				sc = scores[i*span:]
			}
			sc = sc[:p+1-first]
			lo, hi := (h/group*c.cap+first)*hd, (h/group*c.cap+p+1)*hd // rows [first, p] of kv head h/group
			qv := q[t*d.qDim+h*hd:][:hd]
			if kc.DType == kernels.F16 {
				kernels.DotRowsF16(sc, kc.U16[lo:hi], hd, qv)
			} else {
				kernels.DotRows(sc, kc.F32[lo:hi], hd, qv)
			}
			for j, x := range sc {
				sc[j] = float32(x * scale)
			}
			kernels.Softmax(sc)
			o := out[t*d.qDim+h*hd:][:hd]
			if vc.DType == kernels.F16 {
				kernels.WeightedSumF16(o, sc, vc.U16[lo:hi], hd)
			} else {
				kernels.WeightedSum(o, sc, vc.F32[lo:hi], hd)
			}
		}
	})
}

// project sets y = w·x for n rows of x: kernels.MatVec for one token,
// kernels.MatMul for several. Both give the same bits per element.
func (m *Model) project(y []float32, w *kernels.Mat, x []float32, n int) {
	if n == 1 {
		kernels.MatVec(m.pool, y, w, x)
		return
	}
	kernels.MatMul(m.pool, y, w, x, n)
}

// embedRow writes row id of the embedding, converted to float32, to dst.
func (m *Model) embedRow(dst []float32, id int) {
	e := &m.Embed
	off := id * e.Cols
	switch e.DType {
	case kernels.F32:
		copy(dst, e.F32[off:off+e.Cols])
	case kernels.F16:
		for i, h := range e.U16[off : off+e.Cols] {
			dst[i] = kernels.F16ToF32(h)
		}
	case kernels.BF16:
		for i, h := range e.U16[off : off+e.Cols] {
			dst[i] = kernels.BF16ToF32(h)
		}
	}
}

// addBias adds bias to every row of x (rows of len(bias)); a nil bias
// does nothing.
func addBias(x, bias []float32) {
	if len(bias) == 0 {
		return
	}
	for r := 0; r < len(x); r += len(bias) {
		row := x[r : r+len(bias)]
		for i, b := range bias {
			row[i] += b
		}
	}
}

// addInto adds y to x element by element (the residual connection).
func addInto(x, y []float32) {
	for i, v := range y {
		x[i] += v
	}
}
