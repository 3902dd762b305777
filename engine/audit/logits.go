package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// LogitsHash is the running logits_sha256 of a generation: SHA-256 over
// the IEEE-754 float32 bits, little-endian, of every logit the model
// returned, step after step with nothing between them: first the prefill's
// last-position logits, then each decode step's. Every step holds
// vocab_size values, so no framing is needed. NaN payloads and the sign of
// zero are hashed as they are, since bit-exact means exactly that.
//
// Feed Add from the generate loop's logits hook (generate.Options.OnLogits)
// before anything changes the slice. The zero value is not usable; call
// NewLogitsHash.
type LogitsHash struct {
	h     hash.Hash
	steps int
	buf   []byte
}

// NewLogitsHash returns an empty running hash.
func NewLogitsHash() *LogitsHash {
	return &LogitsHash{h: sha256.New()}
}

// Add hashes one step's logits.
func (l *LogitsHash) Add(logits []float32) {
	l.buf = l.buf[:0]
	for _, v := range logits {
		l.buf = binary.LittleEndian.AppendUint32(l.buf, math.Float32bits(v))
	}
	l.h.Write(l.buf) // hash.Hash.Write never returns an error
	l.steps++
}

// Steps returns how many times Add was called.
func (l *LogitsHash) Steps() int { return l.steps }

// Sum returns the lowercase hex SHA-256 of everything added so far; more
// steps may be added afterwards.
func (l *LogitsHash) Sum() string {
	return hex.EncodeToString(l.h.Sum(nil))
}
