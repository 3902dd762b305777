package sample

import (
	"math"
	"slices"
	"testing"

	"github.com/loomai/loom/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	inf  = float32(math.Inf(1))
	ninf = float32(math.Inf(-1))
	nan  = float32(math.NaN())
)

// logitsOf returns ln(p) for each p: logits whose softmax is p (when p sums
// to 1), so expected probabilities can be read off the test table.
func logitsOf(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(math.Log(v))
	}
	return out
}

func TestGreedy(t *testing.T) {
	tests := []struct {
		name   string
		temp   float32
		logits []float32
		want   int
	}{
		{"single", 0, []float32{-3}, 0},
		{"max", 0, []float32{0.5, 2, -1, 1.5}, 1},
		{"tie takes lowest id", 0, []float32{1, 3, 0, 3}, 1},
		{"negative temperature is greedy", -1, []float32{1, 3, 0, 4}, 3},
		{"NaN temperature is greedy", nan, []float32{1, 3, 0, 4}, 3},
		{"NaN logits lose", 0, []float32{nan, -5, nan}, 1},
		{"all -Inf gives lowest id", 0, []float32{ninf, ninf}, 0},
		{"+Inf wins", 0, []float32{1e30, inf, 2}, 1},
		{"empty", 0, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Temperature: tt.temp})
			assert.Equal(t, tt.want, s.Sample(tt.logits, nil))
		})
	}
}

func TestPenalties(t *testing.T) {
	// Expected logits follow llama.cpp's llama_sampler_penalties_apply:
	// logit <= 0 ? logit*rep : logit/rep, then
	// logit -= count*freq + (count > 0)*presence, once per distinct token.
	logits := []float32{2, -2, 1, 0, 4}
	tests := []struct {
		name    string
		o       Options
		history []int
		want    []float32
	}{
		{"off", Options{}, []int{0, 1, 2}, []float32{2, -2, 1, 0, 4}},
		{"repeat divides positive, multiplies negative, once per token",
			Options{RepeatPenalty: 2}, []int{0, 1, 0, 0, 3},
			[]float32{1, -4, 1, 0, 4}},
		{"repeat penalty below one boosts",
			Options{RepeatPenalty: 0.5}, []int{0, 1}, []float32{4, -1, 1, 0, 4}},
		{"frequency counts occurrences",
			Options{FrequencyPenalty: 0.5}, []int{0, 4, 0, 0}, []float32{0.5, -2, 1, 0, 3.5}},
		{"presence counts once",
			Options{PresencePenalty: 0.25}, []int{2, 2, 2, 1}, []float32{2, -2.25, 0.75, 0, 4}},
		{"all three",
			Options{RepeatPenalty: 2, FrequencyPenalty: 0.5, PresencePenalty: 0.25}, []int{0, 0, 1},
			[]float32{2.0/2 - (2*0.5 + 0.25), -2*2 - (0.5 + 0.25), 1, 0, 4}},
		{"window keeps the last n",
			Options{RepeatPenalty: 2, PenaltyLastN: 2}, []int{0, 1, 2, 4},
			[]float32{2, -2, 0.5, 0, 2}},
		{"window longer than history",
			Options{RepeatPenalty: 2, PenaltyLastN: 100}, []int{0},
			[]float32{1, -2, 1, 0, 4}},
		{"ids outside the vocabulary are ignored",
			Options{RepeatPenalty: 2}, []int{-1, 5, 1 << 40, 4},
			[]float32{2, -2, 1, 0, 2}},
		{"zero and NaN penalties are off",
			Options{RepeatPenalty: 0, FrequencyPenalty: nan, PresencePenalty: nan}, []int{0, 1},
			[]float32{2, -2, 1, 0, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.o)
			c := make([]candidate, len(logits))
			for i, l := range logits {
				c[i] = candidate{int32(i), l}
			}
			s.penalize(c, tt.history)
			got := make([]float32, len(c))
			for i, x := range c {
				require.Equal(t, int32(i), x.id)
				got[i] = x.logit
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPenaltiesThenGreedy(t *testing.T) {
	s := New(Options{RepeatPenalty: 4})
	logits := []float32{3, 2, -1}
	assert.Equal(t, 0, s.Sample(logits, nil))
	assert.Equal(t, 1, s.Sample(logits, []int{0}), "3/4 < 2")
	assert.Equal(t, []float32{3, 2, -1}, logits, "Sample must not modify logits")
}

func TestTopK(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		k      int
		want   []int
	}{
		{"two best", []float32{1, 5, 3, 4, 2}, 2, []int{1, 3}},
		{"ties at the cut keep lower ids", []float32{1, 2, 2, 0, 2}, 2, []int{1, 2}},
		{"ties in order by id", []float32{2, 2, 2, 2}, 3, []int{0, 1, 2}},
		{"one", []float32{-1, -0.5, -2}, 1, []int{1}},
		{"infinities", []float32{ninf, 0, inf, -1}, 3, []int{2, 1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := topK(cands(tt.logits), tt.k)
			slices.SortFunc(got, order)
			assert.Equal(t, tt.want, ids(got))
		})
	}
}

// TestTopKMatchesSort checks the heap selection against its definition, the
// first k of a full sort, on random logits with many ties.
func TestTopKMatchesSort(t *testing.T) {
	r := NewRNG(3)
	for _, n := range []int{2, 17, 1000} {
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(r.Uint64()%64) / 8
		}
		sorted := cands(logits)
		slices.SortFunc(sorted, order)
		for _, k := range []int{1, 2, n / 2, n - 1} {
			if k < 1 {
				continue
			}
			got := topK(cands(logits), k)
			slices.SortFunc(got, order)
			assert.Equal(t, ids(sorted[:k]), ids(got), "n=%d k=%d", n, k)
		}
	}
}

func TestTopP(t *testing.T) {
	// Probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625: running sums 0.5,
	// 0.75, 0.875, 0.9375, 1. Cut-offs sit away from those sums.
	logits := logitsOf(0.5, 0.25, 0.125, 0.0625, 0.0625)
	tests := []struct {
		p    float32
		want int
	}{
		{0.01, 1}, {0.3, 1}, {0.6, 2}, {0.8, 3}, {0.9, 4}, {0.99, 5},
	}
	for _, tt := range tests {
		c := cands(logits)
		got := topP(c, slices.Clone(c), leader(c).logit, tt.p)
		assert.Equal(t, []int{0, 1, 2, 3, 4}[:tt.want], ids(got), "top-p %v", tt.p)
	}
}

func TestMinP(t *testing.T) {
	// Probabilities relative to the best: 1, 0.5, 0.25, 0.125, 0.125.
	logits := logitsOf(0.4, 0.2, 0.1, 0.05, 0.05)
	tests := []struct {
		p    float32
		want int
	}{
		{1, 1}, {0.9, 1}, {0.4, 2}, {0.2, 3}, {0.1, 5}, {0.01, 5},
	}
	for _, tt := range tests {
		c := cands(logits)
		assert.Equal(t, []int{0, 1, 2, 3, 4}[:tt.want], ids(minP(c, leader(c), tt.p)), "min-p %v", tt.p)
	}
}

// frequencies draws n tokens and returns how often each id came up.
func frequencies(o Options, logits []float32, n int) []float64 {
	s := New(o)
	f := make([]float64, len(logits))
	for range n {
		f[s.Sample(logits, nil)]++
	}
	for i := range f {
		f[i] /= float64(n)
	}
	return f
}

// TestDistribution checks that draws follow the softmax of the truncated,
// tempered logits. With 200000 draws the standard deviation of a frequency
// is at most 0.0012, so 0.006 is a five-sigma bound for a fixed seed.
func TestDistribution(t *testing.T) {
	const n = 200000
	logits := logitsOf(0.5, 0.3, 0.2)
	sq := []float64{math.Sqrt(0.5), math.Sqrt(0.3), math.Sqrt(0.2)}
	sqSum := sq[0] + sq[1] + sq[2]
	cube := []float64{0.125, 0.027, 0.008}
	cubeSum := cube[0] + cube[1] + cube[2]
	tests := []struct {
		name string
		o    Options
		want []float64
	}{
		{"temperature 1", Options{Temperature: 1}, []float64{0.5, 0.3, 0.2}},
		{"temperature 2 flattens: p^(1/2)", Options{Temperature: 2},
			[]float64{sq[0] / sqSum, sq[1] / sqSum, sq[2] / sqSum}},
		{"temperature 1/3 sharpens: p^3", Options{Temperature: 1.0 / 3},
			[]float64{cube[0] / cubeSum, cube[1] / cubeSum, cube[2] / cubeSum}},
		{"top-k 2 renormalises", Options{Temperature: 1, TopK: 2}, []float64{0.625, 0.375, 0}},
		{"top-p 0.7 keeps two", Options{Temperature: 1, TopP: 0.7}, []float64{0.625, 0.375, 0}},
		{"min-p 0.5 keeps two", Options{Temperature: 1, MinP: 0.5}, []float64{0.625, 0.375, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := frequencies(tt.o, logits, n)
			for i := range got {
				assert.InDelta(t, tt.want[i], got[i], 0.006, "token %d: %v", i, got)
			}
		})
	}
}

// TestOrder checks llama.cpp's order penalties → top-k → top-p → min-p →
// temperature with cases whose outcome would differ in another order.
func TestOrder(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		logits  []float32
		history []int
		want    int
	}{
		// Penalised first, token 0 falls to 5/10 and top-k 1 keeps token 1.
		{"penalties before top-k", Options{Temperature: 1, TopK: 1, RepeatPenalty: 10},
			[]float32{5, 4, 0}, []int{0}, 1},
		// After top-k 2 the probabilities are 4/7 and 3/7, so top-p 0.5
		// keeps one token; over all four it would keep two.
		{"top-k before top-p", Options{Temperature: 1, TopK: 2, TopP: 0.5},
			logitsOf(0.4, 0.3, 0.2, 0.1), nil, 0},
		// Untempered, 0.6 >= 0.55 keeps one token; at temperature 10 the
		// probabilities would be nearly flat and top-p would keep more.
		{"top-p before temperature", Options{Temperature: 10, TopP: 0.55},
			logitsOf(0.6, 0.3, 0.1), nil, 0},
		// Untempered, only token 0 has relative probability >= 0.5.
		{"min-p before temperature", Options{Temperature: 10, MinP: 0.5},
			logitsOf(0.6, 0.25, 0.15), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.o)
			for range 200 {
				require.Equal(t, tt.want, s.Sample(tt.logits, tt.history))
			}
		})
	}
}

func TestSampleEdges(t *testing.T) {
	tests := []struct {
		name   string
		o      Options
		logits []float32
		want   int
	}{
		{"+Inf wins when sampling", Options{Temperature: 1}, []float32{0, inf, 1}, 1},
		{"all -Inf gives lowest id", Options{Temperature: 1, TopP: 0.9}, []float32{ninf, ninf, ninf}, 0},
		{"-Inf never drawn", Options{Temperature: 1}, []float32{ninf, 0, ninf}, 1},
		{"tiny temperature is greedy", Options{Temperature: 1e-45}, []float32{1, 2, 1.5}, 1},
		{"NaN is never drawn", Options{Temperature: 1}, []float32{nan, 0, nan}, 1},
		{"empty", Options{Temperature: 1}, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.o)
			for range 50 {
				require.Equal(t, tt.want, s.Sample(tt.logits, nil))
			}
		})
	}
}

func TestSameSeedSameTokens(t *testing.T) {
	r := NewRNG(11)
	logits := make([]float32, 5000)
	for i := range logits {
		logits[i] = r.Float32() * 4
	}
	run := func(seed uint64) []int {
		s := New(Options{Temperature: 0.9, TopK: 400, TopP: 0.95, MinP: 0.01, RepeatPenalty: 1.1, Seed: seed})
		var out []int
		for range 50 {
			out = append(out, s.Sample(logits, out))
		}
		return out
	}
	a := run(5)
	assert.Equal(t, a, run(5))
	assert.NotEqual(t, a, run(6))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"typical", Options{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, PenaltyLastN: 64}, true},
		{"negative temperature", Options{Temperature: -1}, true},
		{"negative presence", Options{PresencePenalty: -1}, true},
		{"NaN temperature", Options{Temperature: nan}, false},
		{"Inf frequency", Options{FrequencyPenalty: inf}, false},
		{"negative top-k", Options{TopK: -1}, false},
		{"top-p above 1", Options{TopP: 1.5}, false},
		{"negative min-p", Options{MinP: -0.1}, false},
		{"negative repeat", Options{RepeatPenalty: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalidOptions)
			}
		})
	}
}

func cands(logits []float32) []candidate {
	c := make([]candidate, len(logits))
	for i, l := range logits {
		c[i] = candidate{int32(i), l}
	}
	return c
}

func ids(c []candidate) []int {
	out := make([]int, len(c))
	for i, x := range c {
		out[i] = int(x.id)
	}
	return out
}

func TestTruncationOutOfIDOrder(t *testing.T) {
	// Probabilities by id: 0.0625, 0.5, 0.125, 0.25, 0.0625. Best first:
	// ids 1, 3, 2, then 0 and 4 tied (lower id first).
	logits := logitsOf(0.0625, 0.5, 0.125, 0.25, 0.0625)
	c := cands(logits)
	lead := leader(c)
	assert.Equal(t, int32(1), lead.id)
	assert.Equal(t, []int{1, 3}, ids(topP(cands(logits), slices.Clone(c), lead.logit, 0.6)))
	assert.Equal(t, []int{1, 3, 2, 0}, ids(topP(cands(logits), slices.Clone(c), lead.logit, 0.9)))
	assert.Equal(t, []int{1, 2, 3}, ids(minP(cands(logits), lead, 0.2)))
	got := topK(cands(logits), 4)
	slices.SortFunc(got, order)
	assert.Equal(t, []int{1, 3, 2, 0}, ids(got))
}

// TestDrawDefinition follows the documented draw by hand: with four equal
// logits every weight is 1 and S = 4, so u = Float32()*4 and the chosen id is
// floor(u), the Float32 values coming from the reference C stream.
func TestDrawDefinition(t *testing.T) {
	for _, line := range readReference(t) {
		if line.kind != "loom" {
			continue
		}
		s := New(Options{Temperature: 0.7, Seed: line.args[0]})
		for i, v := range line.want {
			u := float32(v>>40) / 16777216 * 4
			assert.Equal(t, int(u), s.Sample([]float32{1.5, 1.5, 1.5, 1.5}, nil), "seed %d draw %d", line.args[0], i)
		}
	}
}

// TestTopPMatchesSort checks the bucketed top-p against its definition: a
// full sort, then the shortest prefix whose probabilities reach p.
func TestTopPMatchesSort(t *testing.T) {
	r := NewRNG(9)
	for _, spread := range []float32{1, 10, 60} {
		logits := make([]float32, 3000)
		for i := range logits {
			logits[i] = float32(int(r.Float32()*spread*16)) / 16 // many ties
		}
		logits[17] = ninf
		c := cands(logits)
		lead := leader(c)
		for _, p := range []float32{0.1, 0.5, 0.9, 0.99, 0.999999, 0.99999994} {
			want := cands(logits)
			n, _ := prefixP(want, lead.logit, sumExp(logits, lead.logit), p)
			got := topP(cands(logits), make([]candidate, len(c)), lead.logit, p)
			assert.Equal(t, ids(want[:n]), ids(got), "spread %v p %v", spread, p)
		}
	}
}

// sumExp is the softmax denominator in ascending id order, as Sample
// computes it.
func sumExp(logits []float32, top float32) float32 {
	var s float32
	for _, l := range logits {
		s += kernels.Exp(l - top)
	}
	return s
}
