package model

// Cache is the key/value cache of one sequence: for every layer, the
// post-RoPE keys and the values of every position processed so far, in
// float32. It also owns the scratch buffers of single-token Forward calls,
// so different Caches may be used from different goroutines at once, but
// one Cache must not be.
//
// Memory grows with the sequence (doubling, up to the cache's maximum
// length), so a cache that is never filled never holds its full size.
type Cache struct {
	m      *Model
	maxLen int
	n      int         // positions filled
	cap    int         // positions allocated in k and v
	k, v   [][]float32 // per layer: cap positions of kvDim values
	step   *scratch    // buffers for one token, reused by every decode step
	scores []float32   // attention weights of a decode step: heads x cap
	logits []float32   // Next's result, reused by every call
}

// NewCache returns an empty cache for this model that holds up to maxLen
// positions; maxLen <= 0 or above the model's context length means the
// context length.
func (m *Model) NewCache(maxLen int) *Cache {
	if maxLen <= 0 || maxLen > m.ctxLen {
		maxLen = m.ctxLen
	}
	return &Cache{
		m:      m,
		maxLen: maxLen,
		k:      make([][]float32, m.d.layers),
		v:      make([][]float32, m.d.layers),
	}
}

// Len returns the number of positions in the cache: the next Forward
// starts at this position.
func (c *Cache) Len() int { return c.n }

// MaxLen returns the number of positions the cache can hold.
func (c *Cache) MaxLen() int { return c.maxLen }

// Truncate drops every position from n on, so that the sequence can be
// continued differently from there (for example after a rejected reply).
// n < 0 empties the cache; n >= Len() does nothing. The memory is kept.
func (c *Cache) Truncate(n int) {
	c.n = max(min(n, c.n), 0)
}

// reserve makes room for need positions (need <= maxLen), keeping the
// filled ones.
func (c *Cache) reserve(need int) {
	if need <= c.cap {
		return
	}
	kvDim := c.m.d.kvDim
	newCap := min(max(need, 2*c.cap, 16), c.maxLen)
	for l := range c.k {
		k := make([]float32, newCap*kvDim)
		copy(k, c.k[l][:c.n*kvDim])
		c.k[l] = k
		v := make([]float32, newCap*kvDim)
		copy(v, c.v[l][:c.n*kvDim])
		c.v[l] = v
	}
	c.cap = newCap
}

// scratch holds the activations of one Forward over n tokens, each buffer
// n rows of the size its name gives.
type scratch struct {
	x, xb, tmp []float32 // hidden: residual stream, normed input, projection output
	q, att     []float32 // heads*headDim: queries, attention output
	k, v       []float32 // kvHeads*headDim: new keys and values
	gate, up   []float32 // intermediate
	cos, sin   []float32 // headDim/2: RoPE at each token's position
}

func newScratch(d dims, n int) *scratch {
	half := d.headDim / 2
	return &scratch{
		x:    make([]float32, n*d.hidden),
		xb:   make([]float32, n*d.hidden),
		tmp:  make([]float32, n*d.hidden),
		q:    make([]float32, n*d.qDim),
		att:  make([]float32, n*d.qDim),
		k:    make([]float32, n*d.kvDim),
		v:    make([]float32, n*d.kvDim),
		gate: make([]float32, n*d.inter),
		up:   make([]float32, n*d.inter),
		cos:  make([]float32, n*half),
		sin:  make([]float32, n*half),
	}
}

// scratch returns buffers for n tokens: the cache's own for a single
// token, fresh ones for a prefill (which is rare and may be long, so its
// buffers are not kept alive).
func (c *Cache) scratch(n int) *scratch {
	if n > 1 {
		return newScratch(c.m.d, n)
	}
	if c.step == nil {
		c.step = newScratch(c.m.d, 1)
	}
	return c.step
}

// decodeScores returns the cache's attention-weight buffer for a step of n
// tokens: heads x cap values for a single token, nil for a prefill (whose
// goroutines allocate their own, as it may be long).
func (c *Cache) decodeScores(n int) []float32 {
	if n != 1 {
		return nil
	}
	if want := c.m.d.heads * c.cap; len(c.scores) < want {
		c.scores = make([]float32, want)
	}
	return c.scores
}
