// Package sample picks the next token from a model's logits: greedy, or
// temperature sampling after repetition/presence/frequency penalties and
// top-k, top-p and min-p truncation, applied in llama.cpp's order, with
// Loom's own seeded PRNG (see RNG) so that a seed reproduces a generation
// exactly on every platform.
package sample

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/loomai/loom/kernels"
)

// ErrInvalidOptions is wrapped by Options.Validate for a setting outside its
// range.
var ErrInvalidOptions = errors.New("invalid sampling options")

// Options selects the samplers and their parameters. The zero value is
// greedy decoding with no penalties.
type Options struct {
	// Temperature divides the logits before the draw; <= 0 means greedy:
	// penalties are still applied, then the highest logit wins.
	Temperature float32
	// TopK keeps the K highest logits; <= 0 turns it off.
	TopK int
	// TopP keeps the smallest prefix of candidates, by descending
	// probability, whose probabilities sum to at least TopP; it is off
	// unless 0 < TopP < 1.
	TopP float32
	// MinP keeps the candidates whose probability is at least MinP times the
	// highest one; <= 0 turns it off.
	MinP float32
	// RepeatPenalty divides the positive logits, and multiplies the
	// others, of every token seen in the penalty window; 0 and 1 turn it off.
	RepeatPenalty float32
	// PresencePenalty is subtracted once from the logit of every token seen
	// in the penalty window; 0 turns it off.
	PresencePenalty float32
	// FrequencyPenalty is subtracted from a token's logit once per
	// occurrence in the penalty window; 0 turns it off.
	FrequencyPenalty float32
	// PenaltyLastN is how many of the most recent history tokens the
	// penalties look at; <= 0 means the whole history. (llama.cpp's 0
	// disables penalties instead; here a zero value must not silently
	// discard a penalty that was set.)
	PenaltyLastN int
	// Seed starts the PRNG (see NewRNG); every value, 0 included, is valid.
	Seed uint64
}

// Validate reports, wrapping ErrInvalidOptions, the first setting that is
// NaN, infinite or out of its range. New accepts any Options; Validate is for
// callers that want to reject bad user input rather than have New quietly
// treat it as "off".
func (o Options) Validate() error {
	floats := []struct {
		name string
		v    float32
	}{
		{"temperature", o.Temperature}, {"top-p", o.TopP}, {"min-p", o.MinP},
		{"repeat penalty", o.RepeatPenalty}, {"presence penalty", o.PresencePenalty},
		{"frequency penalty", o.FrequencyPenalty},
	}
	for _, f := range floats {
		if math.IsNaN(float64(f.v)) || math.IsInf(float64(f.v), 0) {
			return fmt.Errorf("%w: %s is %v", ErrInvalidOptions, f.name, f.v)
		}
	}
	switch {
	case o.TopK < 0:
		return fmt.Errorf("%w: top-k %d is negative", ErrInvalidOptions, o.TopK)
	case o.TopP < 0 || o.TopP > 1:
		return fmt.Errorf("%w: top-p %v is outside [0, 1]", ErrInvalidOptions, o.TopP)
	case o.MinP < 0 || o.MinP > 1:
		return fmt.Errorf("%w: min-p %v is outside [0, 1]", ErrInvalidOptions, o.MinP)
	case o.RepeatPenalty < 0:
		return fmt.Errorf("%w: repeat penalty %v is negative", ErrInvalidOptions, o.RepeatPenalty)
	}
	return nil
}

// Sampler turns logits into token ids. It keeps its PRNG and scratch buffers
// between calls, so one Sampler serves one sequence and is not safe for
// concurrent use.
type Sampler struct {
	o       Options
	rng     *RNG
	cands   []candidate
	scratch []candidate
	weights []float32
	counts  map[int]int
}

// candidate is one token still in the running.
type candidate struct {
	id    int32 // 8-byte candidates halve the memory traffic over a vocabulary
	logit float32
}

// New returns a Sampler for o. Settings outside their range mean "off" as
// described on each Options field, and a NaN temperature means greedy; use
// Options.Validate to reject them instead.
func New(o Options) *Sampler {
	return &Sampler{o: o, rng: NewRNG(o.Seed), counts: map[int]int{}}
}

// Sample returns the chosen token id for logits (one entry per vocabulary
// id), given the ids generated or read so far (history, oldest first; ids
// outside the vocabulary are ignored). logits is not modified. It returns -1
// only when logits is empty (or absurdly long: over 2^31-1 entries). NaN
// logits count as -Inf.
//
// "Better" below means a higher logit, or the lower id on equal logits; "the
// leader" is the best candidate and top its logit. The steps, in llama.cpp's
// order:
//  1. penalties (see Options) on the tokens of the last PenaltyLastN
//     history entries, once per distinct token: the repeat penalty divides a
//     positive logit and multiplies one <= 0, then
//     count*FrequencyPenalty + PresencePenalty is subtracted;
//  2. greedy when Temperature <= 0: the leader wins;
//  3. top-k keeps the TopK best candidates;
//  4. top-p: with w = kernels.Exp(logit - top), S the sum of w over the
//     candidates and p = w/S, it keeps the best candidates, taken from the
//     best down, until their running sum of p reaches TopP;
//  5. min-p keeps the candidates with kernels.Exp(logit - top) >= MinP, and
//     always the leader;
//  6. temperature: x = logit / Temperature, and xtop the leader's x;
//  7. draw: w = kernels.Exp(x - xtop), S their sum, u = RNG.Float32() * S;
//     the result is the first candidate whose running sum of w exceeds u
//     (the last one with w > 0 if rounding leaves none).
//
// Sums (S in steps 4 and 7, the running sum in step 7) run over the
// candidates in ascending id order in float32; the running sum of step 4 runs
// from the best down. The result is therefore a pure function of the inputs
// and the PRNG draws made so far (one per call that reaches step 7). Only
// top-p sorts, and usually just the best candidates (see topP).
func (s *Sampler) Sample(logits []float32, history []int) int {
	if len(logits) == 0 || len(logits) > math.MaxInt32 {
		return -1
	}
	c := s.cands[:0]
	for id, l := range logits {
		if l != l {
			l = float32(math.Inf(-1))
		}
		c = append(c, candidate{int32(id), l})
	}
	s.cands = c
	s.penalize(c, history)

	lead := leader(c)
	if !(s.o.Temperature > 0) {
		return int(lead.id)
	}
	// An infinite leader would turn logit - top into NaN; it wins outright
	// (+Inf), or every candidate is -Inf and the lowest id wins.
	if math.IsInf(float64(lead.logit), 0) {
		return int(lead.id)
	}
	if k := s.o.TopK; k > 0 && k < len(c) {
		c = topK(c, k)
		slices.SortFunc(c, byID)
	}
	if p := s.o.TopP; p > 0 && p < 1 {
		s.scratch = slices.Grow(s.scratch[:0], len(c))
		c = topP(c, s.scratch, lead.logit, p)
		slices.SortFunc(c, byID)
	}
	if s.o.MinP > 0 {
		c = minP(c, lead, s.o.MinP)
	}
	return s.draw(c, lead)
}

// penalize applies the repetition, frequency and presence penalties to c
// (indexed by id) for the tokens of the penalty window.
func (s *Sampler) penalize(c []candidate, history []int) {
	rep, freq, pres := s.o.RepeatPenalty, s.o.FrequencyPenalty, s.o.PresencePenalty
	if !(rep > 0) {
		rep = 1
	}
	if freq != freq {
		freq = 0
	}
	if pres != pres {
		pres = 0
	}
	if rep == 1 && freq == 0 && pres == 0 {
		return
	}
	window := history
	if n := s.o.PenaltyLastN; n > 0 && n < len(history) {
		window = history[len(history)-n:]
	}
	clear(s.counts)
	for _, id := range window {
		if id >= 0 && id < len(c) {
			s.counts[id]++
		}
	}
	// Walk the window, not the map, so no map order can leak into the
	// result; deleting makes each distinct token count once.
	for _, id := range window {
		n, ok := s.counts[id]
		if !ok {
			continue
		}
		delete(s.counts, id)
		l := c[id].logit
		if l <= 0 {
			l *= rep
		} else {
			l /= rep
		}
		c[id].logit = l - (float32(float32(n)*freq) + pres)
	}
}

// order sorts better candidates first: by descending logit, then ascending
// id. Logits are never NaN here, so it is a total order.
func order(a, b candidate) int {
	if a.logit != b.logit {
		if a.logit > b.logit {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.id, b.id)
}

// byID sorts candidates by ascending id.
func byID(a, b candidate) int { return cmp.Compare(a.id, b.id) }

// leader returns the best candidate of a non-empty c.
func leader(c []candidate) candidate {
	best := c[0]
	for _, x := range c[1:] {
		if order(x, best) < 0 {
			best = x
		}
	}
	return best
}

// topK moves the k best candidates of c (0 < k < len(c)) to the front of c
// and returns them, in no particular order. It keeps a heap of the best k
// seen so far with the worst of them at the root: O(len(c) log k) instead of
// a sort of the whole vocabulary.
func topK(c []candidate, k int) []candidate {
	h := c[:k]
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for _, x := range c[k:] {
		if order(x, h[0]) < 0 {
			h[0] = x
			siftDown(h, 0)
		}
	}
	return h
}

// siftDown restores the heap property below i for a heap whose root is the
// worst candidate by order.
func siftDown(h []candidate, i int) {
	for {
		w := i
		if l := 2*i + 1; l < len(h) && order(h[l], h[w]) > 0 {
			w = l
		}
		if r := 2*i + 2; r < len(h) && order(h[r], h[w]) > 0 {
			w = r
		}
		if w == i {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// topP returns the best candidates of c, best first, taken from the best
// down until their softmax probabilities sum to at least p. Sorting the
// whole vocabulary for that is slow, so a first pass buckets the candidates
// by top - logit and adds up the mass of each bucket; only the best buckets
// holding enough mass are sorted. They are a prefix of the full order, so
// when their running sum reaches p the result is exactly the full sort's;
// otherwise (rounding, or mass far down the tail) everything is sorted.
// scratch is storage for a copy of c.
func topP(c, scratch []candidate, top, p float32) []candidate {
	const perNat, buckets = 4, 128
	var mass [buckets]float64
	bucket := func(x candidate) int {
		if d := top - x.logit; d < buckets/perNat {
			return int(d * perNat)
		}
		return buckets - 1
	}
	var sum float32
	for _, x := range c {
		w := kernels.Exp(x.logit - top)
		sum += w
		mass[bucket(x)] += float64(w)
	}
	// Aim a little past p*sum so that float32 rounding of the exact running
	// sum below rarely needs the fallback.
	target := float64(p) * float64(sum) * (1 + 1e-3)
	cut, acc := 0, 0.0
	for cut < buckets-1 {
		acc += mass[cut]
		if acc >= target {
			break
		}
		cut++
	}
	kept := scratch[:0]
	for _, x := range c {
		if bucket(x) <= cut {
			kept = append(kept, x)
		}
	}
	if n, ok := prefixP(kept, top, sum, p); ok {
		return kept[:n]
	}
	kept = append(scratch[:0], c...)
	n, _ := prefixP(kept, top, sum, p)
	return kept[:n]
}

// prefixP sorts c by order and returns the length of the shortest prefix
// whose probabilities exp(logit - top)/sum add up to at least p, and whether
// there is one.
func prefixP(c []candidate, top, sum, p float32) (int, bool) {
	slices.SortFunc(c, order)
	var cum float32
	for i, x := range c {
		cum += kernels.Exp(x.logit-top) / sum
		if cum >= p {
			return i + 1, true
		}
	}
	return len(c), false
}

// minP keeps, in order, the candidates of c whose probability relative to
// the leader's is at least p. Comparing exp(logit - top) with p is
// llama.cpp's logit >= top + log(p) without a logarithm.
func minP(c []candidate, lead candidate, p float32) []candidate {
	kept := c[:0]
	for _, x := range c {
		if x.id == lead.id || kernels.Exp(x.logit-lead.logit) >= p {
			kept = append(kept, x)
		}
	}
	return kept
}

// draw applies the temperature to c (in ascending id order, holding the
// leader) and picks one candidate with the PRNG in proportion to its
// softmax probability.
func (s *Sampler) draw(c []candidate, lead candidate) int {
	t := s.o.Temperature
	top := lead.logit / t
	if math.IsInf(float64(top), 0) {
		// A temperature so small that the leader overflows is greedy.
		return int(lead.id)
	}
	w := s.weights[:0]
	var sum float32
	for _, x := range c {
		wi := kernels.Exp(x.logit/t - top)
		w = append(w, wi)
		sum += wi
	}
	s.weights = w
	u := s.rng.Float32() * sum
	var acc float32
	last := 0
	for i, wi := range w {
		acc += wi
		if u < acc {
			return int(c[i].id)
		}
		if wi > 0 {
			last = i
		}
	}
	return int(c[last].id)
}
