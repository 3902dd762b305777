package model

import (
	"fmt"

	"github.com/loomai/loom/kernels"
)

// The values of Options.KVCache: the element type of the KV cache.
const (
	// KVCacheF32 keeps keys and values in float32 (also what "" means).
	KVCacheF32 = "f32"
	// KVCacheF16 stores keys and values as IEEE binary16, half the memory
	// of float32: each is rounded once, to nearest even, when stored, and
	// converted back exactly when attention reads it.
	KVCacheF16 = "f16"
)

// kvDType maps an Options.KVCache value to the cache's element type.
func kvDType(name string) (kernels.DType, error) {
	switch name {
	case "", KVCacheF32:
		return kernels.F32, nil
	case KVCacheF16:
		return kernels.F16, nil
	}
	return 0, fmt.Errorf("kv cache %q (want %q or %q): %w", name, KVCacheF32, KVCacheF16, ErrUnsupported)
}

// KVCache returns the element type of this model's caches: KVCacheF32 or
// KVCacheF16.
func (m *Model) KVCache() string {
	if m.kv == kernels.F16 {
		return KVCacheF16
	}
	return KVCacheF32
}

// CacheBytes returns how many bytes the keys and values of positions
// positions take in a cache of this model: for every layer, keys and
// values of kvHeads*headDim elements of 4 bytes (f32) or 2 (f16) per
// position. A cache allocates room for more positions than it holds as it
// grows (see NewCache), at most for its maximum length.
func (m *Model) CacheBytes(positions int) int64 {
	size := int64(4)
	if m.kv == kernels.F16 {
		size = 2
	}
	return 2 * int64(m.d.layers) * int64(m.d.kvDim) * size * int64(positions)
}

// Cache is the key/value cache of one sequence: for every layer, the
// post-RoPE keys and the values of every position processed so far, in
// the model's cache element type (float32, or binary16 with
// Options.KVCache "f16"). It also owns the scratch buffers of single-token
// Forward calls, so different Caches may be used from different goroutines
// at once, but one Cache must not be.
//
// Each layer's keys (and values) are one kernels.Mat of kvHeads*cap rows of
// headDim elements: row g*cap+p holds kv head g at position p, so the keys
// one query head attends to are consecutive rows, which attention hands to
// kernels.DotRows as they are.
//
// Memory grows with the sequence (doubling, up to the cache's maximum
// length), so a cache that is never filled never holds its full size.
type Cache struct {
	m      *Model
	maxLen int
	n      int           // positions filled
	cap    int           // positions allocated per kv head in k and v
	k, v   []kernels.Mat // per layer: kvHeads*cap rows of headDim
	step   *scratch      // buffers for one token, reused by every decode step
	scores []float32     // attention weights of a decode step: heads x cap
	logits []float32     // Next's result, reused by every call
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
		k:      make([]kernels.Mat, m.d.layers),
		v:      make([]kernels.Mat, m.d.layers),
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
	newCap := min(max(need, 2*c.cap, 16), c.maxLen)
	for l := range c.k {
		c.k[l] = c.grown(&c.k[l], newCap)
		c.v[l] = c.grown(&c.v[l], newCap)
	}
	c.cap = newCap
}

// grown returns a layer matrix with room for newCap positions per kv head
// holding the c.n positions filled in old.
func (c *Cache) grown(old *kernels.Mat, newCap int) kernels.Mat {
	d := c.m.d
	w := kernels.Mat{Rows: d.kvHeads * newCap, Cols: d.headDim, DType: c.m.kv}
	if w.DType == kernels.F16 {
		w.U16 = regroup(old.U16, c.n, c.cap, newCap, d.kvHeads, d.headDim)
	} else {
		w.F32 = regroup(old.F32, c.n, c.cap, newCap, d.kvHeads, d.headDim)
	}
	return w
}

// regroup copies the first n rows of each of heads groups of oldCap rows
// (of cols elements) in old to a new slice of heads groups of newCap rows.
func regroup[T uint16 | float32](old []T, n, oldCap, newCap, heads, cols int) []T {
	out := make([]T, heads*newCap*cols)
	for g := range heads {
		copy(out[g*newCap*cols:], old[g*oldCap*cols:][:n*cols])
	}
	return out
}

// store writes the keys and values of n tokens (rows of kvDim in k and v)
// at positions pos0.. of layer l, converted to the cache's element type.
func (c *Cache) store(l int, k, v []float32, pos0, n int) {
	d := c.m.d
	for t := range n {
		for g := range d.kvHeads {
			row := g*c.cap + pos0 + t
			off := t*d.kvDim + g*d.headDim
			putRow(&c.k[l], row, k[off:off+d.headDim])
			putRow(&c.v[l], row, v[off:off+d.headDim])
		}
	}
}

// putRow sets row r of w (F32 or F16) to src, rounding to binary16 with
// kernels.F32ToF16 for an F16 matrix.
func putRow(w *kernels.Mat, r int, src []float32) {
	off := r * w.Cols
	if w.DType == kernels.F16 {
		dst := w.U16[off : off+len(src)]
		for i, x := range src {
			dst[i] = kernels.F32ToF16(x)
		}
		return
	}
	copy(w.F32[off:off+len(src)], src)
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

// decodeScores returns the cache's buffer for the attention weights of a
// step of n tokens: heads x cap values for a decode step (n == 1), nil for
// a prefill, whose goroutines allocate their own.
func (c *Cache) decodeScores(n int) []float32 {
	if n != 1 {
		return nil
	}
	if want := c.m.d.heads * c.cap; len(c.scores) < want {
		c.scores = make([]float32, want)
	}
	return c.scores
}
