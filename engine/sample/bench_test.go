package sample

import (
	"fmt"
	"testing"
)

// BenchmarkSample times one call over a Qwen3-sized vocabulary.
func BenchmarkSample(b *testing.B) {
	r := NewRNG(1)
	logits := make([]float32, 151936)
	for i := range logits {
		logits[i] = r.Float32() * 20
	}
	history := make([]int, 64)
	for i := range history {
		history[i] = int(r.Uint64() % uint64(len(logits)))
	}
	for _, o := range []Options{
		{},
		{Temperature: 0.8},
		{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, PenaltyLastN: 64},
		{Temperature: 0.8, TopP: 0.95},
	} {
		b.Run(fmt.Sprintf("%+v", o), func(b *testing.B) {
			s := New(o)
			for b.Loop() {
				s.Sample(logits, history)
			}
		})
	}
}
