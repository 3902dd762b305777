package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/engine/sample"
)

// Windows is a token stream cut into training examples: window i is the
// Context+1 tokens starting at i*Context, whose first Context tokens are
// the input and whose last Context tokens are the targets (each position
// predicts the next token). Consecutive windows share one token, so every
// token of the stream but the first is a target exactly once.
type Windows struct {
	stream  []int32
	context int
	starts  []int // the start of every window in stream
}

// Split cuts stream into windows of context tokens and holds out every
// valEvery-th window (windows valEvery-1, 2*valEvery-1, ...) for
// validation; valEvery <= 0 holds out none. Windows keep the stream, which
// must not change afterwards.
func Split(stream []int32, context, valEvery int) (train, val *Windows, err error) {
	if context < 1 {
		return nil, nil, fmt.Errorf("train: context %d: %w", context, ErrShape)
	}
	n := 0
	if len(stream) > context {
		n = (len(stream) - 1) / context
	}
	train = &Windows{stream: stream, context: context}
	val = &Windows{stream: stream, context: context}
	for i := range n {
		w := train
		if valEvery > 0 && i%valEvery == valEvery-1 {
			w = val
		}
		w.starts = append(w.starts, i*context)
	}
	if len(train.starts) == 0 {
		return nil, nil, fmt.Errorf("train: %d tokens give no training window of %d+1 tokens: %w", len(stream), context, ErrShape)
	}
	return train, val, nil
}

// Len returns the number of windows.
func (w *Windows) Len() int { return len(w.starts) }

// fill writes window i's inputs and targets into the given row slices.
func (w *Windows) fill(tokens, targets []int, i int) {
	s := w.stream[w.starts[i] : w.starts[i]+w.context+1]
	for j := range w.context {
		tokens[j] = int(s[j])
		targets[j] = int(s[j+1])
	}
}

// Fingerprint returns a SHA-256 of the windows' context and tokens, which
// a checkpoint records so that a run resumes only on the same data.
func (w *Windows) Fingerprint() string {
	h := sha256.New()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(w.context))
	h.Write(buf[:])
	for _, s := range w.starts {
		for _, t := range w.stream[s : s+w.context+1] {
			binary.LittleEndian.PutUint32(buf[:4], uint32(t))
			h.Write(buf[:4])
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// order yields the training batches: epoch e visits every window once in a
// seeded random order (a Fisher-Yates shuffle driven by engine/sample's RNG
// seeded with seed and e), and step s takes the windows s*rows ...
// (s+1)*rows-1 of the concatenated epochs. The batch of a step therefore
// depends only on (seed, step), which is what lets a resumed run continue
// exactly.
type order struct {
	w     *Windows
	seed  uint64
	epoch int
	perm  []int // order of the current epoch
}

func newOrder(w *Windows, seed uint64) *order {
	return &order{w: w, seed: seed, epoch: -1}
}

// permutation returns epoch e's window order.
func (o *order) permutation(e int) []int {
	if o.epoch == e {
		return o.perm
	}
	n := o.w.Len()
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rng := sample.NewRNG(o.seed ^ (uint64(e)+1)*0x9e3779b97f4a7c15)
	for i := n - 1; i > 0; i-- {
		j := int(rng.Uint64() % uint64(i+1)) // the modulo bias is below 2^-40 here
		perm[i], perm[j] = perm[j], perm[i]
	}
	o.epoch, o.perm = e, perm
	return perm
}

// batch returns step s's batch of rows windows.
func (o *order) batch(s, rows int) Batch {
	c := o.w.context
	b := Batch{Tokens: make([]int, rows*c), Targets: make([]int, rows*c), Rows: rows, Len: c}
	n := o.w.Len()
	for r := range rows {
		k := s*rows + r
		perm := o.permutation(k / n)
		o.w.fill(b.Tokens[r*c:(r+1)*c], b.Targets[r*c:(r+1)*c], perm[k%n])
	}
	return b
}

// evalBatches returns the windows in order as batches of rows windows; the
// last one is padded with rows whose targets are all ignored.
func (w *Windows) evalBatches(rows int) []Batch {
	c := w.context
	var out []Batch
	for first := 0; first < w.Len(); first += rows {
		b := Batch{Tokens: make([]int, rows*c), Targets: make([]int, rows*c), Rows: rows, Len: c}
		for r := range rows {
			if first+r < w.Len() {
				w.fill(b.Tokens[r*c:(r+1)*c], b.Targets[r*c:(r+1)*c], first+r)
				continue
			}
			for j := r * c; j < (r+1)*c; j++ {
				b.Targets[j] = nn.IgnoreIndex
			}
		}
		out = append(out, b)
	}
	return out
}
