package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/kernels"
)

const (
	benchSynopsis = "bench MODEL [--quantize q8] [--kv-cache f16] [-p 128] [-n 64] [-t 2] [-r 5] [-o md|json]"
	benchAbout    = `Measures the model in MODEL (config.json and safetensors; no tokenizer
needed) the way llama-bench does: pp, the speed of one Forward over -p
prompt tokens, and tg, the speed of generating -n tokens one at a time from
an empty cache, each repeated -r times after one untimed warm-up run. Token
ids are fixed pseudo-random ids, so runs are comparable. It prints tokens
per second (median and range over the repetitions) and the process's peak
resident memory (VmHWM) with the weights' own size and the KV cache's (its
type, and its bytes at max(-p, -n) positions).`
)

// benchMaxTokens bounds -p and -n.
const benchMaxTokens = 1 << 16

// benchResult is one test's timings, in tokens per second.
type benchResult struct {
	Test    string    `json:"test"`
	Tokens  int       `json:"tokens"`
	Samples []float64 `json:"samples_ts"`
	Median  float64   `json:"median_ts"`
	Min     float64   `json:"min_ts"`
	Max     float64   `json:"max_ts"`
}

// benchReport is what `loom bench -o json` prints.
type benchReport struct {
	Model       string        `json:"model"`
	Weights     string        `json:"weights"`
	Quantize    string        `json:"quantize"`
	Params      int64         `json:"params"`
	WeightBytes int64         `json:"weight_bytes"`
	KVCache     string        `json:"kv_cache"`
	KVBytes     int64         `json:"kv_cache_bytes"`
	Threads     int           `json:"threads"`
	LoadSeconds float64       `json:"load_s"`
	PeakRSS     int64         `json:"peak_rss_bytes"` // -1 where /proc/self/status is missing
	Results     []benchResult `json:"results"`
}

// runBench is `loom bench`.
func runBench(args []string, s stdio) error {
	fs := newFlagSet("bench")
	quant := addQuantizeFlag(fs)
	kvCache := addKVCacheFlag(fs)
	prompt := fs.Int("p", 128, "prompt tokens for the pp test; 0 skips it")
	gen := fs.Int("n", 64, "generated tokens for the tg test; 0 skips it")
	threads := fs.Int("t", 2, "worker threads")
	reps := fs.Int("r", 5, "repetitions of each test")
	format := fs.String("o", "md", "output format: md or json")
	pos, err := parseFlags(fs, args, s, benchSynopsis, benchAbout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usagef("want one MODEL directory, got %d arguments", len(pos))
	case *prompt < 0 || *prompt > benchMaxTokens || *gen < 0 || *gen > benchMaxTokens:
		return usagef("-p and -n must be in [0, %d]", benchMaxTokens)
	case *prompt == 0 && *gen == 0:
		return usagef("-p and -n are both 0: nothing to measure")
	case *threads < 1 || *threads > model.MaxThreads:
		return usagef("-t must be in [1, %d]", model.MaxThreads)
	case *reps < 1 || *reps > 1000:
		return usagef("-r must be in [1, 1000]")
	case *format != "md" && *format != "json":
		return usagef("-o must be md or json")
	}
	dir, err := modelDir(pos[0], s)
	if err != nil {
		return err
	}

	start := time.Now()
	m, err := model.Load(dir, model.Options{Threads: *threads, ContextLength: max(*prompt, *gen), Quantize: *quant, KVCache: *kvCache})
	if err != nil {
		return err
	}
	defer m.Close()
	rep := benchReport{Model: dir, Quantize: *quant, Threads: *threads, LoadSeconds: time.Since(start).Seconds()}
	rep.Weights, rep.Params, rep.WeightBytes = weightStats(m)
	rep.KVCache, rep.KVBytes = m.KVCache(), m.CacheBytes(max(*prompt, *gen))
	cfg := m.Config()

	ids := benchIDs(max(*prompt, *gen), cfg.VocabSize)
	if *prompt > 0 {
		r, err := benchRun(fmt.Sprintf("pp%d", *prompt), *prompt, *reps, func() error {
			_, err := m.Forward(m.NewCache(*prompt), ids[:*prompt], false)
			return err
		})
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, r)
	}
	if *gen > 0 {
		r, err := benchRun(fmt.Sprintf("tg%d", *gen), *gen, *reps, func() error {
			c := m.NewCache(*gen)
			for _, id := range ids[:*gen] {
				if _, err := m.Forward(c, []int{id}, false); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, r)
	}
	rep.PeakRSS = peakRSS()

	w := bufio.NewWriter(s.out)
	if *format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printBench(w, rep)
	}
	return w.Flush()
}

// benchRun times fn reps times after one untimed warm-up run; fn
// processes tokens tokens.
func benchRun(test string, tokens, reps int, fn func() error) (benchResult, error) {
	r := benchResult{Test: test, Tokens: tokens}
	if err := fn(); err != nil {
		return r, err
	}
	for range reps {
		runtime.GC() // a collection triggered by the previous run must not land in this one
		start := time.Now()
		if err := fn(); err != nil {
			return r, err
		}
		r.Samples = append(r.Samples, float64(tokens)/time.Since(start).Seconds())
	}
	sorted := slices.Sorted(slices.Values(r.Samples))
	r.Min, r.Max = sorted[0], sorted[len(sorted)-1]
	r.Median = sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		r.Median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	return r, nil
}

// benchIDs returns n token ids in [1, vocab) from a splitmix64 sequence
// with a fixed seed (id 0 is avoided: it is often a special token).
func benchIDs(n, vocab int) []int {
	ids := make([]int, n)
	state := uint64(0x10017)
	for i := range ids {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		ids[i] = 1 + int(z%uint64(max(vocab-1, 1)))
	}
	return ids
}

// weightStats returns the weight dtypes of m ("F32", or "F32+Q8" when the
// projections are Q8 and the embedding is not), its parameter count and
// the bytes its matrices, norms and biases occupy (a tied LM head that
// shares the embedding is counted once).
func weightStats(m *model.Model) (dtypes string, params, bytes int64) {
	var types []string
	add := func(w *kernels.Mat) {
		params += int64(w.Rows) * int64(w.Cols)
		bytes += int64(4*len(w.F32) + 2*len(w.U16) + len(w.Q8) + 4*len(w.Scales))
		if name := w.DType.String(); !slices.Contains(types, name) {
			types = append(types, name)
		}
	}
	vec := func(v []float32) {
		params += int64(len(v))
		bytes += 4 * int64(len(v))
	}
	add(&m.Embed)
	for i := range m.Layers {
		ly := &m.Layers[i]
		for _, w := range []*kernels.Mat{&ly.Attn.Q, &ly.Attn.K, &ly.Attn.V, &ly.Attn.O, &ly.MLP.Gate, &ly.MLP.Up, &ly.MLP.Down} {
			add(w)
		}
		for _, v := range [][]float32{ly.AttnNorm, ly.MLPNorm, ly.Attn.QBias, ly.Attn.KBias, ly.Attn.VBias, ly.Attn.OBias} {
			vec(v)
		}
	}
	vec(m.Norm)
	if m.LMHead != &m.Embed {
		if m.Config().TieWordEmbeddings {
			// A tied head converted at load is an extra copy, not extra
			// parameters.
			p := params
			add(m.LMHead)
			params = p
		} else {
			add(m.LMHead)
		}
	}
	return strings.Join(types, "+"), params, bytes
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes,
// or -1 where /proc/self/status does not exist.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return -1
}

// printBench prints the report as a llama-bench style markdown table.
func printBench(w *bufio.Writer, r benchReport) {
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	q := r.Quantize
	if q == "" {
		q = "none"
	}
	fmt.Fprintf(w, "model %s: %s weights (quantize %s), %.1fM params, %s; %s KV cache; loaded in %.2f s\n",
		r.Model, r.Weights, q, float64(r.Params)/1e6, mib(r.WeightBytes), r.KVCache, r.LoadSeconds)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| threads | test | t/s median | t/s range |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: |")
	for _, res := range r.Results {
		fmt.Fprintf(w, "| %d | %s | %.2f | %.2f – %.2f |\n", r.Threads, res.Test, res.Median, res.Min, res.Max)
	}
	fmt.Fprintln(w)
	rss := "n/a"
	if r.PeakRSS >= 0 {
		rss = fmt.Sprintf("%s (%.2f x weights + %s KV cache %s)", mib(r.PeakRSS),
			float64(r.PeakRSS)/float64(r.WeightBytes+r.KVBytes), r.KVCache, mib(r.KVBytes))
	}
	fmt.Fprintf(w, "peak RSS: %s\n", rss)
}
