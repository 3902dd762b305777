package tokenizer

import "strings"

// StreamDecoder turns ids into text one id at a time, for streaming
// generation. It follows HF's DecodeStream: it decodes a short window of
// recent ids and emits what the new id added to the window's text, holding
// text back while it ends in an incomplete UTF-8 character (U+FFFD). Special
// tokens are skipped, as Decode(ids, true) does.
//
// The concatenation of everything Next and Flush return equals
// Decode(all ids, true), for every decoder this package supports except a
// Replace placed after Fuse whose pattern spans token boundaries (HF's
// DecodeStream fails there too).
//
// With a ByteFallback decoder, text is also held back while the last token
// is a "<0xNN>" byte token: ByteFallback decodes a whole run of byte tokens
// at once (one U+FFFD per byte when the run is not valid UTF-8), so the
// text of a run is final only when the run ends.
type StreamDecoder struct {
	t           *Tokenizer
	all         []int  // every id so far, for Flush
	ids         []int  // HF's window of recent ids
	prefix      string // text of ids[:prefixIndex], already emitted
	prefixIndex int
	emitted     strings.Builder
	skipSpecial bool
	// held is set while text is held back (a byte-fallback run or an
	// incomplete character); the window then has text that was not
	// emitted, so HF's prefix refresh must not adopt it.
	held bool
}

// NewStreamDecoder returns a stream decoder that skips special tokens.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t, skipSpecial: true}
}

// Next adds id and returns the text it completes; it never returns half a
// UTF-8 character, and returns "" while a character is incomplete.
func (d *StreamDecoder) Next(id int) string {
	if d.prefix == "" && !d.held {
		// HF refreshes an empty prefix from the window; nothing in the
		// window is pending then, so the window decodes to "" as well.
		d.prefixIndex = len(d.ids)
	}
	d.ids = append(d.ids, id)
	d.all = append(d.all, id)
	if d.t.byteFallback && d.inByteRun() {
		d.held = true
		return ""
	}
	s := d.t.Decode(d.ids, d.skipSpecial)
	if d.t.byteLevel && strings.HasSuffix(s, "\ufffd") && d.incompleteTail() {
		d.held = true
		return ""
	}
	d.held = false
	if len(s) <= len(d.prefix) || !strings.HasPrefix(s, d.prefix) {
		// A prefix mismatch only happens with a decoder that rewrites
		// text across token boundaries after Fuse (HF's DecodeStream
		// fails there); the text is held.
		return ""
	}
	out := s[len(d.prefix):]
	newIndex := len(d.ids) - d.prefixIndex
	d.ids = append(d.ids[:0], d.ids[d.prefixIndex:]...)
	d.prefix = d.t.Decode(d.ids, d.skipSpecial)
	d.prefixIndex = newIndex
	d.emitted.WriteString(out)
	return out
}

// incompleteTail reports whether the bytes of the window, as the ByteLevel
// decoder sees them, end with the start of a multi-byte character that
// later bytes could complete. Any other trailing U+FFFD is final.
func (d *StreamDecoder) incompleteTail() bool {
	var tail []byte
	for i := len(d.ids) - 1; i >= 0 && len(tail) < 3; i-- {
		s, ok := d.t.tokenString(d.ids[i])
		if !ok || d.skipSpecial && d.t.added.special[s] {
			continue
		}
		tail = append(tokenBytes(s), tail...)
	}
	for k := 1; k <= 3 && k <= len(tail); k++ {
		c := tail[len(tail)-k]
		if c >= 0x80 && c <= 0xbf {
			continue // a continuation byte: look further back
		}
		return c >= 0xc2 && c <= 0xf4 && invalidLen(tail[len(tail)-k:]) == k && k < seqLen(c)
	}
	return false
}

// seqLen is the length of the UTF-8 sequence a lead byte starts.
func seqLen(c byte) int {
	switch {
	case c >= 0xf0:
		return 4
	case c >= 0xe0:
		return 3
	}
	return 2
}

// inByteRun reports whether the last token the decoder sees (skipped
// special tokens and unknown ids aside) is a byte-fallback token.
func (d *StreamDecoder) inByteRun() bool {
	for i := len(d.ids) - 1; i >= 0; i-- {
		s, ok := d.t.tokenString(d.ids[i])
		if !ok || d.skipSpecial && d.t.added.special[s] {
			continue
		}
		_, isByte := parseByteToken(s)
		return isByte
	}
	return false
}

// Flush ends the stream: it returns the text still held back, i.e. what
// Decode of all ids has beyond what was emitted (an incomplete character at
// the end decodes to U+FFFD there), and resets the decoder for a new
// stream.
func (d *StreamDecoder) Flush() string {
	full := d.t.Decode(d.all, d.skipSpecial)
	done := d.emitted.String()
	rest := ""
	if strings.HasPrefix(full, done) {
		rest = full[len(done):]
	}
	*d = StreamDecoder{t: d.t, skipSpecial: d.skipSpecial}
	return rest
}
