package train

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/kernels"
)

// MaxBatchTokens bounds Rows*Len of a batch.
const MaxBatchTokens = 1 << 20

// MaxWorkspace bounds the float32 values a batch's activations and
// scratch buffers take (1<<30 values, 4 GiB), so that a batch shape too
// large for the machine is an error rather than an allocation failure.
const MaxWorkspace = 1 << 30

// Batch is Rows sequences of Len tokens each, row-major, with the token
// each position should predict. Every sequence starts at position 0.
type Batch struct {
	Tokens []int
	// Targets holds, for each position, the id the model should predict
	// there (usually the next token), or nn.IgnoreIndex for no loss.
	Targets   []int
	Rows, Len int
}

// check validates b against the model.
func (m *Model) check(b *Batch) error {
	n := b.Rows * b.Len
	switch {
	case b.Rows < 1 || b.Len < 1 || b.Rows > MaxBatchTokens/b.Len:
		return fmt.Errorf("train: batch of %d x %d tokens (at most %d in all): %w", b.Rows, b.Len, MaxBatchTokens, ErrShape)
	case b.Len > m.cfg.MaxPositionEmbeddings:
		return fmt.Errorf("train: sequences of %d tokens exceed max_position_embeddings %d: %w", b.Len, m.cfg.MaxPositionEmbeddings, ErrShape)
	case m.workspaceSize(b.Rows, b.Len) > MaxWorkspace:
		return fmt.Errorf("train: a batch of %d x %d tokens needs %d GiB of activations (at most %d): %w",
			b.Rows, b.Len, m.workspaceSize(b.Rows, b.Len)>>28, MaxWorkspace>>28, ErrShape)
	case len(b.Tokens) != n || len(b.Targets) != n:
		return fmt.Errorf("train: %d tokens and %d targets for %d x %d: %w", len(b.Tokens), len(b.Targets), b.Rows, b.Len, ErrShape)
	}
	for i, id := range b.Tokens {
		if id < 0 || id >= m.d.vocab {
			return fmt.Errorf("train: token %d is %d, vocabulary has %d: %w", i, id, m.d.vocab, ErrToken)
		}
	}
	for i, id := range b.Targets {
		if id != nn.IgnoreIndex && (id < 0 || id >= m.d.vocab) {
			return fmt.Errorf("train: target %d is %d, vocabulary has %d: %w", i, id, m.d.vocab, ErrToken)
		}
	}
	return nil
}

// Gradients computes the mean cross-entropy of b's targets (as PyTorch's
// F.cross_entropy with ignore_index=nn.IgnoreIndex) and adds its gradient
// with respect to every parameter into the parameter's Grad. It returns
// the loss; a batch whose targets are all ignored has loss and gradient 0.
func (m *Model) Gradients(p *kernels.Pool, b Batch) (float32, error) {
	if err := m.check(&b); err != nil {
		return 0, err
	}
	m.forward(p, &b)
	ws := m.ws
	logits, err := nn.TensorFrom(ws.logits, ws.n, m.d.vocab)
	if err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	loss, dlogits, err := nn.CrossEntropy(logits, b.Targets, nn.IgnoreIndex)
	if err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	m.backward(p, &b, dlogits.Data)
	return loss, nil
}

// Loss returns the mean cross-entropy of b's targets without computing
// gradients (validation), and how many targets it averages, so that a
// validation set's loss can be averaged over batches.
func (m *Model) Loss(p *kernels.Pool, b Batch) (float32, int, error) {
	if err := m.check(&b); err != nil {
		return 0, 0, err
	}
	m.forward(p, &b)
	logits, err := nn.TensorFrom(m.ws.logits, m.ws.n, m.d.vocab)
	if err != nil {
		return 0, 0, fmt.Errorf("train: %w", err)
	}
	loss, _, err := nn.CrossEntropy(logits, b.Targets, nn.IgnoreIndex)
	if err != nil {
		return 0, 0, fmt.Errorf("train: %w", err)
	}
	count := 0
	for _, t := range b.Targets {
		if t != nn.IgnoreIndex {
			count++
		}
	}
	return loss, count, nil
}

// Logits runs the model over b.Tokens (targets are not needed) and returns
// a copy of the logits, [Rows*Len x vocab].
func (m *Model) Logits(p *kernels.Pool, b Batch) ([]float32, error) {
	if b.Targets == nil {
		b.Targets = make([]int, len(b.Tokens))
	}
	if err := m.check(&b); err != nil {
		return nil, err
	}
	m.forward(p, &b)
	return append([]float32(nil), m.ws.logits...), nil
}

// forward runs the model over a checked batch, keeping every activation
// the backward pass needs in m.ws. Each step is the operation engine/model
// performs, in the same order, so the logits are bit-identical to its.
func (m *Model) forward(p *kernels.Pool, b *Batch) {
	ws := m.workspace(b.Rows, b.Len)
	d := m.d
	n := ws.n

	x := ws.layers[0].x
	for t, id := range b.Tokens {
		copy(x[t*d.hidden:(t+1)*d.hidden], m.Embed.Value.Data[id*d.hidden:(id+1)*d.hidden])
	}
	for l := range m.Layers {
		ly := &m.Layers[l]
		la := &ws.layers[l]
		next := ws.xf
		if l+1 < len(ws.layers) {
			next = ws.layers[l+1].x
		}

		// Attention block: x2 = x + o_proj(attention(rope(q), rope(k), v)).
		rmsNorm(p, la.xn1, la.r1, la.x, ly.AttnNorm.Value.Data, d.eps)
		kernels.MatMul(p, la.q, mat(ly.Q), la.xn1, n)
		kernels.MatMul(p, la.k, mat(ly.K), la.xn1, n)
		kernels.MatMul(p, la.v, mat(ly.V), la.xn1, n)
		addBias(la.q, ly.QBias)
		addBias(la.k, ly.KBias)
		addBias(la.v, ly.VBias)
		m.rope(la.q, d.qDim, ws)
		m.rope(la.k, d.kvDim, ws)
		m.attention(p, la, b.Rows, b.Len)
		kernels.MatMul(p, ws.tmp, mat(ly.O), la.att, n)
		addBias(ws.tmp, ly.OBias)
		for i, v := range ws.tmp {
			la.x2[i] = la.x[i] + v
		}

		// MLP block: next = x2 + down(SiLU(gate(x2')) * up(x2')).
		rmsNorm(p, la.xn2, la.r2, la.x2, ly.MLPNorm.Value.Data, d.eps)
		kernels.MatMul(p, la.gate, mat(ly.Gate), la.xn2, n)
		kernels.MatMul(p, la.up, mat(ly.Up), la.xn2, n)
		kernels.SwiGLU(la.act, la.gate, la.up)
		kernels.MatMul(p, ws.tmp, mat(ly.Down), la.act, n)
		for i, v := range ws.tmp {
			next[i] = la.x2[i] + v
		}
	}
	rmsNorm(p, ws.xnf, ws.rf, ws.xf, m.Norm.Value.Data, d.eps)
	kernels.MatMul(p, ws.logits, mat(m.head()), ws.xnf, n)
}

// rmsNorm applies kernels.RMSNorm's computation to every row of x (rows
// of len(w)), writing the normed rows to out and each row's inverse RMS,
// 1/sqrt(mean(x²)+eps), to inv for the backward pass.
func rmsNorm(p *kernels.Pool, out, inv, x, w []float32, eps float32) {
	h := len(w)
	p.For(len(inv), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			xr := x[t*h : (t+1)*h]
			or := out[t*h : (t+1)*h]
			mean := kernels.Dot(xr, xr) / float32(h)
			r := 1 / float32(math.Sqrt(float64(mean+eps)))
			inv[t] = r
			for i, v := range xr {
				or[i] = w[i] * float32(v*r)
			}
		}
	})
}

// addBias adds bias to every row of x; a nil bias does nothing.
func addBias(x []float32, bias *nn.Param) {
	if bias == nil {
		return
	}
	b := bias.Value.Data
	for r := 0; r < len(x); r += len(b) {
		row := x[r : r+len(b)]
		for i, v := range b {
			row[i] += v
		}
	}
}

// rope rotates every head of every row of x (rows of width values) by its
// position within its sequence, as kernels.RoPE does.
func (m *Model) rope(x []float32, width int, ws *workspace) {
	half := m.d.headDim / 2
	for t := range ws.n {
		pos := t % ws.len
		kernels.RoPE(x[t*width:(t+1)*width], ws.cos[pos*half:(pos+1)*half], ws.sin[pos*half:(pos+1)*half], m.d.headDim)
	}
}

// window returns the first key position query position i attends to: 0,
// or with a sliding window the oldest position inside it (HF keeps key j
// when j > i - sliding_window).
func (m *Model) window(i int) int {
	if m.d.window > 0 {
		return max(i-m.d.window+1, 0)
	}
	return 0
}

// attention is engine/model's causal grouped-query attention over each
// sequence of the batch: for query head h at position i, with kv head
// h/(heads/kvHeads),
//
//	s[j] = float32(Dot(q_i, k_j) * 1/sqrt(headDim))  for j in [window(i), i]
//	P = softmax(s), kept in la.probs for the backward pass
//	att_i = sum over j, in increasing j, of float32(P[j]*v_j)
//
// One goroutine handles all query heads of one (sequence, kv head).
func (m *Model) attention(p *kernels.Pool, la *layerActs, rows, L int) {
	d := m.d
	group := d.heads / d.kvHeads
	scale := float32(1 / math.Sqrt(float64(d.headDim)))
	p.For(rows*d.kvHeads, func(lo, hi int) {
		for task := lo; task < hi; task++ {
			b, kvh := task/d.kvHeads, task%d.kvHeads
			kvOff := kvh * d.headDim
			for h := kvh * group; h < (kvh+1)*group; h++ {
				for i := range L {
					row := b*L + i
					first := m.window(i)
					qv := la.q[row*d.qDim+h*d.headDim:][:d.headDim]
					sc := la.probs[((b*d.heads+h)*L+i)*L:][first : i+1]
					for j := range sc {
						kv := la.k[(b*L+first+j)*d.kvDim+kvOff:][:d.headDim]
						sc[j] = float32(kernels.Dot(qv, kv) * scale)
					}
					kernels.Softmax(sc)
					o := la.att[row*d.qDim+h*d.headDim:][:d.headDim]
					clear(o)
					for j, w := range sc {
						vv := la.v[(b*L+first+j)*d.kvDim+kvOff:][:d.headDim]
						for e, x := range vv {
							o[e] += float32(w * x)
						}
					}
				}
			}
		}
	})
}
