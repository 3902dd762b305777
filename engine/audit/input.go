package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/loomai/loom/engine/sample"
)

// Input is everything besides the model that decides a generation's
// output: the prompt and every option. Settings that must not change the
// output (thread count, GOMAXPROCS, timing) are deliberately absent, so
// runs that differ only in them share one input_sha256.
type Input struct {
	// Prompt is the text prompt exactly as given (empty for an ids prompt).
	Prompt string
	// IDs is a token-id prompt (loom verify --ids); nil for a text prompt.
	IDs []int
	// Chat tells that Prompt was sent as the user turn of a conversation
	// rendered with the model's chat template rather than tokenized as
	// plain text.
	Chat bool
	// System is the system turn of that conversation; empty for none.
	System string
	// MaxTokens is the most tokens generated.
	MaxTokens int
	// StopStrings end the generation when the text produces one.
	StopStrings []string
	// Sample holds the sampler settings and the seed, as passed to
	// sample.New.
	Sample sample.Options
	// Quantize is the weight conversion at load (model.Options.Quantize):
	// empty for the weights as stored, "q8" for Q8.
	Quantize string
	// KVCache is the KV cache's element type (model.Options.KVCache):
	// empty or "f32" for float32 (the default, which the encoding leaves
	// out, so hashes from before the option existed stand), "f16" for
	// binary16.
	KVCache string
}

// InputVersion is the first line of the canonical input encoding. It
// changes whenever the encoding does.
const InputVersion = "loom-input-v1"

// Canonical returns the canonical encoding that input_sha256 hashes:
// InputVersion and then one line per key, every key always present, in
// this (alphabetical) order, each line "key=value\n":
//
//	chat               true or false
//	frequency_penalty  float
//	ids                list of ints
//	kv_cache           string (only when KVCache is neither "" nor "f32")
//	max_tokens         int
//	min_p              float
//	penalty_last_n     int
//	presence_penalty   float
//	prompt             string
//	quantize           string
//	repeat_penalty     float
//	seed               unsigned int
//	stop               list of strings
//	system             string
//	temperature        float
//	top_k              int
//	top_p              float
//
// kv_cache was added after the format was first fixed: it is left out for
// the float32 cache, so that every input_sha256 computed before it existed
// stays valid.
//
// An int is its decimal form ("-1", "0", "42"). A float is the float32
// value actually used, written as the shortest decimal that reads back as
// that float32 (Go's strconv.FormatFloat(v, 'g', -1, 32): "0.8", "1",
// "1e-05", "-0", "NaN", "+Inf"). A string is its byte length in decimal,
// ":", then its raw bytes (which may hold newlines). A list is its element
// count in decimal followed, for each element, by ":" and the element
// (so ids 1, 2, 3 are "3:1:2:3" and stop ["a", "bc"] is "2:1:a:2:bc").
func (in Input) Canonical() []byte {
	b := []byte(InputVersion + "\n")
	line := func(key string, value []byte) {
		b = append(b, key...)
		b = append(b, '=')
		b = append(b, value...)
		b = append(b, '\n')
	}
	s := in.Sample
	line("chat", strconv.AppendBool(nil, in.Chat))
	line("frequency_penalty", appendFloat(nil, s.FrequencyPenalty))
	ids := strconv.AppendInt(nil, int64(len(in.IDs)), 10)
	for _, id := range in.IDs {
		ids = strconv.AppendInt(append(ids, ':'), int64(id), 10)
	}
	line("ids", ids)
	if in.KVCache != "" && in.KVCache != "f32" {
		line("kv_cache", appendString(nil, in.KVCache))
	}
	line("max_tokens", strconv.AppendInt(nil, int64(in.MaxTokens), 10))
	line("min_p", appendFloat(nil, s.MinP))
	line("penalty_last_n", strconv.AppendInt(nil, int64(s.PenaltyLastN), 10))
	line("presence_penalty", appendFloat(nil, s.PresencePenalty))
	line("prompt", appendString(nil, in.Prompt))
	line("quantize", appendString(nil, in.Quantize))
	line("repeat_penalty", appendFloat(nil, s.RepeatPenalty))
	line("seed", strconv.AppendUint(nil, s.Seed, 10))
	stop := strconv.AppendInt(nil, int64(len(in.StopStrings)), 10)
	for _, str := range in.StopStrings {
		stop = appendString(append(stop, ':'), str)
	}
	line("stop", stop)
	line("system", appendString(nil, in.System))
	line("temperature", appendFloat(nil, s.Temperature))
	line("top_k", strconv.AppendInt(nil, int64(s.TopK), 10))
	line("top_p", appendFloat(nil, s.TopP))
	return b
}

// SHA256 returns input_sha256: the lowercase hex SHA-256 of Canonical.
func (in Input) SHA256() string {
	sum := sha256.Sum256(in.Canonical())
	return hex.EncodeToString(sum[:])
}

// appendFloat appends the shortest decimal form that reads back as v.
func appendFloat(b []byte, v float32) []byte {
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}

// appendString appends a length-prefixed string: "len:bytes".
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}
