package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyShape is a model small enough to train in a test.
var tinyShape = Shape{
	VocabSize: 40, Hidden: 16, Intermediate: 24, Layers: 2, Heads: 4, KVHeads: 2,
	Context: 64, RopeTheta: 10000, RMSNormEps: 1e-5, Tied: true, BOS: -1, EOS: []int{1},
}

func tinyModel(t *testing.T, seed uint64) *Model {
	t.Helper()
	cfg, err := LlamaConfig(tinyShape)
	require.NoError(t, err)
	m, err := New(cfg, 0.1, seed)
	require.NoError(t, err)
	return m
}

// tinyStream is a seeded token stream with some structure to learn: runs
// that count upwards from a random start.
func tinyStream(n int, vocab int) []int32 {
	rng := sample.NewRNG(3)
	s := make([]int32, n)
	for i := range s {
		if i%7 == 0 {
			s[i] = int32(rng.Uint64() % uint64(vocab))
		} else {
			s[i] = (s[i-1] + 1) % int32(vocab)
		}
	}
	return s
}

// randomBatch is a seeded batch with some ignored targets.
func randomBatch(rows, L, vocab int, seed uint64) Batch {
	rng := sample.NewRNG(seed)
	b := Batch{Tokens: make([]int, rows*L), Targets: make([]int, rows*L), Rows: rows, Len: L}
	for i := range b.Tokens {
		b.Tokens[i] = int(rng.Uint64() % uint64(vocab))
		b.Targets[i] = int(rng.Uint64() % uint64(vocab))
		if i%5 == 3 {
			b.Targets[i] = nn.IgnoreIndex
		}
	}
	return b
}

// TestForwardMatchesInference holds the training forward pass to
// engine/model's Forward bit for bit on the committed test models, so a
// model trained here behaves exactly so after export.
func TestForwardMatchesInference(t *testing.T) {
	for _, name := range []string{"llama-tied", "llama-untied", "qwen2", "head-dim", "mistral", "mqa", "mha", "llama-tied-bf16", "qwen2-f16"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(repoRoot, "testdata/models", name)
			tm, err := Load(dir)
			require.NoError(t, err)
			im, err := model.Load(dir, model.Options{Threads: 2})
			require.NoError(t, err)
			defer im.Close()
			const rows, L = 2, 9
			b := randomBatch(rows, L, im.Config().VocabSize, 5)
			pool := kernels.NewPool(3)
			defer pool.Close()
			got, err := tm.Logits(pool, Batch{Tokens: b.Tokens, Rows: rows, Len: L})
			require.NoError(t, err)
			v := im.Config().VocabSize
			for r := range rows {
				want, err := im.Forward(im.NewCache(0), b.Tokens[r*L:(r+1)*L], true)
				require.NoError(t, err)
				assert.Equal(t, bitsOf(want), bitsOf(got[r*L*v:(r+1)*L*v]), "row %d", r)
			}
		})
	}
}

func bitsOf(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

func TestUnsupportedModels(t *testing.T) {
	for _, name := range []string{"llama3-rope", "llama-linear-rope"} {
		_, err := Load(filepath.Join(repoRoot, "testdata/models", name))
		assert.ErrorIs(t, err, ErrUnsupported, name)
	}
}

// TestAdamWMatchesNN holds the trainer's AdamW to nn.AdamW (itself checked
// against torch) bit for bit over several steps, with nn's two parameter
// groups as two optimisers.
func TestAdamWMatchesNN(t *testing.T) {
	a, b := tinyModel(t, 1), tinyModel(t, 1)
	c := AdamWConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
	ours, err := NewAdamW(a.Params(), c)
	require.NoError(t, err)
	var decayed, plain []*nn.Param
	for _, p := range b.Params() {
		if Decays(p) {
			decayed = append(decayed, p)
		} else {
			plain = append(plain, p)
		}
	}
	require.NotEmpty(t, decayed)
	require.NotEmpty(t, plain)
	nd, err := nn.NewAdamW(decayed, nn.AdamWConfig{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay})
	require.NoError(t, err)
	np, err := nn.NewAdamW(plain, nn.AdamWConfig{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps})
	require.NoError(t, err)
	pool := kernels.NewPool(3)
	defer pool.Close()
	rng := newGaussian(9)
	for step := range 4 {
		for i, p := range a.Params() {
			rng.fill(p.Grad.Data, 0.01)
			copy(b.Params()[i].Grad.Data, p.Grad.Data)
		}
		ours.Step(pool)
		require.NoError(t, nd.Step())
		require.NoError(t, np.Step())
		for i, p := range a.Params() {
			require.Equal(t, bitsOf(b.Params()[i].Value.Data), bitsOf(p.Value.Data), "step %d, %s", step, p.Name)
		}
	}
}

// TestGradientsIndependentOfThreads: the loss and every gradient are the
// same bits on 1, 2, 3 and 7 threads.
func TestGradientsIndependentOfThreads(t *testing.T) {
	var ref [][]uint32
	var refLoss float32
	for _, threads := range []int{1, 2, 3, 7} {
		m, err := Load(filepath.Join(repoRoot, "testdata/models/qwen2"))
		require.NoError(t, err)
		pool := kernels.NewPool(threads)
		loss, err := m.Gradients(pool, randomBatch(3, 11, m.Config().VocabSize, 8))
		pool.Close()
		require.NoError(t, err)
		var grads [][]uint32
		for _, p := range m.Params() {
			grads = append(grads, bitsOf(p.Grad.Data))
		}
		if ref == nil {
			ref, refLoss = grads, loss
			continue
		}
		assert.Equal(t, math.Float32bits(refLoss), math.Float32bits(loss), "loss on %d threads", threads)
		assert.Equal(t, ref, grads, "gradients on %d threads", threads)
	}
}

// runTiny trains the tiny model for steps steps on threads threads and
// returns its F32 weights file bytes.
func runTiny(t *testing.T, threads, steps int, checkpoint string, resumeAt int) []byte {
	t.Helper()
	tr, val, err := Split(tinyStream(3000, tinyShape.VocabSize), 16, 10)
	require.NoError(t, err)
	o := DefaultOptions
	o.Batch, o.Steps, o.Warmup, o.LR, o.MinLR, o.Seed = 4, steps, 3, 1e-2, 1e-3, 42
	pool := kernels.NewPool(threads)
	defer pool.Close()

	trainer, err := NewTrainer(tinyModel(t, 7), tr, val, o)
	require.NoError(t, err)
	if resumeAt > 0 {
		for trainer.Steps() < resumeAt {
			_, err := trainer.Step(pool)
			require.NoError(t, err)
		}
		require.NoError(t, trainer.SaveCheckpoint(checkpoint))
		// A new process: a fresh model (another init seed even) and
		// trainer, restored from the file.
		trainer, err = NewTrainer(tinyModel(t, 99), tr, val, o)
		require.NoError(t, err)
		require.NoError(t, trainer.LoadCheckpoint(checkpoint))
		require.Equal(t, resumeAt, trainer.Steps())
	}
	_, err = trainer.Run(context.Background(), pool, RunOptions{})
	require.NoError(t, err)
	var buf bytes.Buffer
	tensors, err := trainer.Model.Tensors(safetensors.F32)
	require.NoError(t, err)
	require.NoError(t, safetensors.Write(&buf, tensors, nil))
	return buf.Bytes()
}

// TestTrainingDeterministic: the same seed gives the same weight bytes,
// on any thread count, and a run resumed from a checkpoint ends exactly
// where an uninterrupted one does.
func TestTrainingDeterministic(t *testing.T) {
	const steps = 12
	ref := runTiny(t, 1, steps, "", 0)
	assert.Equal(t, ref, runTiny(t, 1, steps, "", 0), "same seed, same thread count")
	assert.Equal(t, ref, runTiny(t, 3, steps, "", 0), "3 threads")
	ckpt := filepath.Join(t.TempDir(), "ckpt.safetensors")
	assert.Equal(t, ref, runTiny(t, 2, steps, ckpt, 5), "resumed after step 5")
	init := tinyModel(t, 7)
	var buf bytes.Buffer
	tensors, err := init.Tensors(safetensors.F32)
	require.NoError(t, err)
	require.NoError(t, safetensors.Write(&buf, tensors, nil))
	assert.NotEqual(t, buf.Bytes(), ref, "training changed the weights")
}

// TestTrainingLearns: the tiny model learns the counting runs of its
// stream, so validation loss falls well below chance (log 40 ≈ 3.7).
func TestTrainingLearns(t *testing.T) {
	tr, val, err := Split(tinyStream(6000, tinyShape.VocabSize), 16, 10)
	require.NoError(t, err)
	o := DefaultOptions
	o.Batch, o.Steps, o.Warmup, o.LR, o.MinLR, o.Seed = 8, 150, 10, 1e-2, 1e-3, 1
	trainer, err := NewTrainer(tinyModel(t, 1), tr, val, o)
	require.NoError(t, err)
	pool := kernels.NewPool(2)
	defer pool.Close()
	before, err := trainer.Validate(pool)
	require.NoError(t, err)
	var progress bytes.Buffer
	after, err := trainer.Run(context.Background(), pool, RunOptions{Progress: &progress, ValEvery: 50})
	require.NoError(t, err)
	t.Logf("validation loss %.3f -> %.3f", before, after)
	assert.Greater(t, before, 3.0)
	// 6 of every 7 targets follow from the previous token; the 7th is
	// random (log 40): the floor is about 0.53.
	assert.Less(t, after, 1.2)
	assert.Contains(t, progress.String(), "step 150/150")
	assert.Contains(t, progress.String(), "validation loss")
}

// TestWorkspaceSize: the size check counts exactly what is allocated.
func TestWorkspaceSize(t *testing.T) {
	m := tinyModel(t, 1)
	ws := m.workspace(3, 10)
	n := len(ws.cos) + len(ws.sin) - 2*10*len(m.invFreq) // the RoPE tables are not counted
	for _, b := range [][]float32{ws.xf, ws.xnf, ws.rf, ws.logits, ws.tmp, ws.dx, ws.dxn, ws.dq, ws.datt, ws.dk, ws.dv, ws.dgate, ws.dup, ws.xT, ws.dyT, ws.wT, ws.gW} {
		n += len(b)
	}
	for _, la := range ws.layers {
		for _, b := range [][]float32{la.x, la.xn1, la.x2, la.xn2, la.r1, la.r2, la.q, la.att, la.k, la.v, la.probs, la.gate, la.up, la.act} {
			n += len(b)
		}
	}
	assert.Equal(t, n, m.workspaceSize(3, 10))
}

// TestSaveLoadsForInference: a saved model loads in engine/model and gives
// the training pass's logits, in float32 exactly and in bfloat16 as the
// rounded weights do.
func TestSaveLoadsForInference(t *testing.T) {
	m := tinyModel(t, 4)
	pool := kernels.NewPool(2)
	defer pool.Close()
	b := randomBatch(1, 12, tinyShape.VocabSize, 2)
	for _, dtype := range []safetensors.DType{safetensors.F32, safetensors.BF16} {
		dir := filepath.Join(t.TempDir(), string(dtype))
		require.NoError(t, m.Save(dir, dtype))
		require.NoError(t, WriteGenerationConfig(dir, -1, []int{1}))
		im, err := model.Load(dir, model.Options{Threads: 1})
		require.NoError(t, err)
		got, err := im.Forward(im.NewCache(0), b.Tokens, true)
		require.NoError(t, err)
		im.Close()

		reloaded, err := Load(dir) // bf16 weights converted exactly to float32
		require.NoError(t, err)
		want, err := reloaded.Logits(pool, Batch{Tokens: b.Tokens, Rows: 1, Len: 12})
		require.NoError(t, err)
		assert.Equal(t, bitsOf(want), bitsOf(got), string(dtype))
		if dtype == safetensors.F32 {
			orig, err := m.Logits(pool, Batch{Tokens: b.Tokens, Rows: 1, Len: 12})
			require.NoError(t, err)
			assert.Equal(t, bitsOf(orig), bitsOf(got))
		}
		info, err := os.Stat(filepath.Join(dir, "model.safetensors"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
	}
}

func TestErrors(t *testing.T) {
	m := tinyModel(t, 1)
	pool := kernels.NewPool(1)
	defer pool.Close()
	good := randomBatch(2, 4, tinyShape.VocabSize, 1)
	cases := []struct {
		name string
		b    Batch
		want error
	}{
		{"token out of range", Batch{Tokens: []int{0, 40}, Targets: []int{1, 2}, Rows: 1, Len: 2}, ErrToken},
		{"negative token", Batch{Tokens: []int{-1, 0}, Targets: []int{1, 2}, Rows: 1, Len: 2}, ErrToken},
		{"target out of range", Batch{Tokens: []int{0, 1}, Targets: []int{1, 40}, Rows: 1, Len: 2}, ErrToken},
		{"short targets", Batch{Tokens: good.Tokens, Targets: good.Targets[:3], Rows: 2, Len: 4}, ErrShape},
		{"zero rows", Batch{Rows: 0, Len: 4}, ErrShape},
		{"too long", Batch{Tokens: make([]int, 65), Targets: make([]int, 65), Rows: 1, Len: 65}, ErrShape},
		{"too many tokens", Batch{Rows: MaxBatchTokens, Len: 2}, ErrShape},
	}
	for _, c := range cases {
		_, err := m.Gradients(pool, c.b)
		assert.ErrorIs(t, err, c.want, c.name)
	}

	// A batch whose attention weights alone would take 16 GiB.
	long := tinyShape
	long.Context = 4096
	cfg, err := LlamaConfig(long)
	require.NoError(t, err)
	big, err := New(cfg, 0.02, 1)
	require.NoError(t, err)
	n := 64 * 4096
	_, err = big.Gradients(pool, Batch{Tokens: make([]int, n), Targets: make([]int, n), Rows: 64, Len: 4096})
	assert.ErrorIs(t, err, ErrShape)
	assert.ErrorContains(t, err, "activations")

	_, _, err = Split(make([]int32, 10), 16, 0)
	assert.ErrorIs(t, err, ErrShape, "stream shorter than a window")

	tr, _, err := Split(tinyStream(200, 40), 8, 0)
	require.NoError(t, err)
	o := DefaultOptions
	o.Steps = 0
	_, err = NewTrainer(m, tr, nil, o)
	assert.ErrorIs(t, err, ErrUnsupported, "no steps")

	// A checkpoint from another run is refused.
	o.Steps = 3
	a, err := NewTrainer(m, tr, nil, o)
	require.NoError(t, err)
	ckpt := filepath.Join(t.TempDir(), "c.safetensors")
	require.NoError(t, a.SaveCheckpoint(ckpt))
	o.Seed++
	b, err := NewTrainer(tinyModel(t, 1), tr, nil, o)
	require.NoError(t, err)
	assert.True(t, errors.Is(b.LoadCheckpoint(ckpt), ErrCheckpoint), "other options")
	o.Seed--
	other, _, err := Split(tinyStream(300, 40), 8, 0)
	require.NoError(t, err)
	c, err := NewTrainer(tinyModel(t, 1), other, nil, o)
	require.NoError(t, err)
	assert.True(t, errors.Is(c.LoadCheckpoint(ckpt), ErrCheckpoint), "other data")
	require.NoError(t, os.WriteFile(ckpt, []byte("garbage"), 0o644))
	assert.Error(t, a.LoadCheckpoint(ckpt))
}

func TestLRSchedule(t *testing.T) {
	s := LRSchedule{LR: 1e-3, MinLR: 1e-4, Warmup: 10, Steps: 110}
	assert.InDelta(t, 1e-4, s.At(0), 1e-12, "warmup starts at LR/Warmup")
	assert.InDelta(t, 1e-3, s.At(9), 1e-12, "warmup ends at LR")
	assert.InDelta(t, 1e-3, s.At(10), 1e-12, "cosine starts at LR")
	assert.InDelta(t, 5.5e-4, s.At(60), 1e-12, "halfway is the midpoint")
	assert.InDelta(t, 1e-4, s.At(110), 1e-12, "ends at MinLR")
	for i := 10; i < 110; i++ {
		assert.Greater(t, s.At(i), s.At(i+1))
	}
}
