// Package generate is the streaming generation loop: prefill the prompt,
// then sample, report and feed back one token at a time until an EOS id, a
// stop string, the token limit, a full cache or cancellation ends it.
package generate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/engine/tokenizer"
)

// Stop reasons reported in Stats.StopReason.
const (
	StopEOS         = "eos"          // the model sampled one of Options.EOSTokenIDs
	StopMaxTokens   = "max_tokens"   // Options.MaxTokens tokens were generated
	StopString      = "stop_string"  // the text reached one of Options.StopStrings
	StopContextFull = "context_full" // the cache has no room to feed the last token back
	StopCancelled   = "cancelled"    // the context was cancelled
)

// Errors returned by Run, usable with errors.Is.
var (
	// ErrInvalidOptions reports Options or arguments Run cannot work with.
	ErrInvalidOptions = errors.New("invalid generation options")
)

// Options control one generation.
type Options struct {
	// MaxTokens is the most tokens to generate, a final EOS included; it
	// must be positive.
	MaxTokens int
	// StopStrings end generation when the generated text contains one;
	// the text before it is reported, the stop string and anything after
	// it are not. They need a tokenizer and must not be empty.
	StopStrings []string
	// EOSTokenIDs end generation when sampled (usually the model's
	// config.EOSTokenIDs); the EOS token's own text is never reported.
	EOSTokenIDs []int
	// Sample selects the sampler; the zero value is greedy.
	Sample sample.Options
	// OnLogits, when set, sees the logits every token is sampled from
	// (the prefill's last position, then each decode step's) before the
	// sampler does; engine/audit hashes them for `loom verify`. The slice
	// is only valid during the call and must not be modified.
	OnLogits func(logits []float32)
}

// Token is one generated token as reported to the onToken callback.
type Token struct {
	// ID is the sampled token id.
	ID int
	// Text is the text that became final with this token: the stream
	// decoder's output, minus any tail that could still begin a stop
	// string (reported with a later token once it cannot), and minus the
	// stop string itself. It may be empty; it is always empty without a
	// tokenizer. Concatenating every Text gives the generated text.
	Text string
}

// Stats describe a finished (or aborted) generation.
type Stats struct {
	// PromptTokens is len(prompt).
	PromptTokens int
	// GeneratedTokens counts the sampled tokens, a final EOS included;
	// each was reported to onToken.
	GeneratedTokens int
	// PrefillTime is the time of the Forward over the prompt.
	PrefillTime time.Duration
	// DecodeTime is the time spent sampling and in the Forward of each
	// generated token fed back (onToken and text decoding excluded).
	DecodeTime time.Duration
	// PrefillTokS is PromptTokens per second of PrefillTime.
	PrefillTokS float64
	// DecodeTokS is GeneratedTokens per second of DecodeTime.
	DecodeTokS float64
	// StopReason is one of the Stop constants, or empty when Run failed
	// for another reason (a model error, an onToken error).
	StopReason string
}

// Run appends prompt to the sequence in c (which may already hold earlier
// turns), then generates: sample a token from the last logits, report it
// to onToken (which may be nil), stop if a stop condition holds, else feed
// it to the model and repeat. On return c holds the prompt and every
// generated token except the last one sampled, which is never fed back.
//
// Every sampled token is reported exactly once, in order, a final EOS
// included (its own text never is; it carries any text still held back).
// With a tokenizer, text is streamed through its StreamDecoder; text that
// could be the start of a stop string is held back until it is known not
// to be, and is released with the final token when generation ends for a
// reason other than a stop string.
//
// The context is checked before every token: on cancellation Run returns
// the stats so far, StopReason "cancelled" and ctx.Err() wrapped. An error
// from onToken aborts generation and is returned wrapped; so is a model
// error. Stats are returned in every case.
func Run(ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, c *model.Cache, prompt []int, o Options, onToken func(Token) error) (st Stats, err error) {
	st.PromptTokens = len(prompt)
	if err := validate(m, c, tok, prompt, o); err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		st.StopReason = StopCancelled
		return st, fmt.Errorf("generate: %w", err)
	}

	start := time.Now()
	logits, err := m.Next(c, prompt)
	st.PrefillTime = time.Since(start)
	st.PrefillTokS = rate(len(prompt), st.PrefillTime)
	if err != nil {
		return st, fmt.Errorf("generate: prefill: %w", err)
	}

	var text *textStream
	if tok != nil {
		text = &textStream{dec: tok.NewStreamDecoder(), stops: o.StopStrings}
	}
	sampler := sample.New(o.Sample)
	history := slices.Clone(prompt)
	defer func() { st.DecodeTokS = rate(st.GeneratedTokens, st.DecodeTime) }()
	for {
		if err := ctx.Err(); err != nil {
			st.StopReason = StopCancelled
			return st, fmt.Errorf("generate: after %d tokens: %w", st.GeneratedTokens, err)
		}
		if o.OnLogits != nil {
			o.OnLogits(logits)
		}
		t0 := time.Now()
		id := sampler.Sample(logits, history)
		st.DecodeTime += time.Since(t0)
		st.GeneratedTokens++
		history = append(history, id)

		out := Token{ID: id}
		switch {
		case slices.Contains(o.EOSTokenIDs, id):
			st.StopReason = StopEOS
		case text != nil:
			var stopped bool
			out.Text, stopped = text.push(id)
			if stopped {
				st.StopReason = StopString
			}
		}
		if st.StopReason == "" {
			switch {
			case st.GeneratedTokens >= o.MaxTokens:
				st.StopReason = StopMaxTokens
			case c.Len() >= c.MaxLen():
				st.StopReason = StopContextFull
			}
		}
		if st.StopReason != "" && st.StopReason != StopString && text != nil {
			rest, stopped := text.finish()
			out.Text += rest
			if stopped && st.StopReason != StopEOS {
				st.StopReason = StopString
			}
		}
		if onToken != nil {
			if err := onToken(out); err != nil {
				reason := st.StopReason
				st.StopReason = ""
				return st, fmt.Errorf("generate: token %d (stop reason %q): onToken: %w", st.GeneratedTokens, reason, err)
			}
		}
		if st.StopReason != "" {
			return st, nil
		}

		t0 = time.Now()
		logits, err = m.Next(c, []int{id})
		st.DecodeTime += time.Since(t0)
		if err != nil {
			return st, fmt.Errorf("generate: token %d: %w", st.GeneratedTokens, err)
		}
	}
}

// validate checks Run's arguments before anything runs; token ids are
// left to the model.
func validate(m *model.Model, c *model.Cache, tok *tokenizer.Tokenizer, prompt []int, o Options) error {
	switch {
	case m == nil || c == nil:
		return fmt.Errorf("generate: nil model or cache: %w", ErrInvalidOptions)
	case len(prompt) == 0:
		return fmt.Errorf("generate: empty prompt: %w", ErrInvalidOptions)
	case o.MaxTokens <= 0:
		return fmt.Errorf("generate: MaxTokens %d is not positive: %w", o.MaxTokens, ErrInvalidOptions)
	case len(o.StopStrings) > 0 && tok == nil:
		return fmt.Errorf("generate: stop strings need a tokenizer: %w", ErrInvalidOptions)
	case slices.Contains(o.StopStrings, ""):
		return fmt.Errorf("generate: empty stop string: %w", ErrInvalidOptions)
	}
	if err := o.Sample.Validate(); err != nil {
		return fmt.Errorf("generate: %w: %w", ErrInvalidOptions, err)
	}
	return nil
}

// rate returns n per second of d, 0 for an empty duration.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// textStream turns token ids into reportable text: it decodes them with
// a StreamDecoder and holds back the longest tail that is a proper prefix
// of a stop string, so that a stop string split over several tokens is
// never partly reported.
type textStream struct {
	dec   *tokenizer.StreamDecoder
	stops []string
	held  string // decoded text not reported yet
}

// push decodes id and returns the text that is now final. stopped reports
// that a stop string was reached; the text is then what precedes it.
func (s *textStream) push(id int) (text string, stopped bool) {
	return s.scan(s.held + s.dec.Next(id))
}

// finish flushes the decoder and returns all remaining text, cut at a stop
// string if the flushed text completes one.
func (s *textStream) finish() (text string, stopped bool) {
	text, stopped = s.scan(s.held + s.dec.Flush())
	if !stopped {
		text += s.held
		s.held = ""
	}
	return text, stopped
}

// scan splits text into the part that can be reported and the tail kept
// in s.held, or cuts it at the earliest stop string.
func (s *textStream) scan(text string) (string, bool) {
	cut := -1
	for _, stop := range s.stops {
		if i := strings.Index(text, stop); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		s.held = ""
		return text[:cut], true
	}
	keep := 0
	for _, stop := range s.stops {
		for n := min(len(stop)-1, len(text)); n > keep; n-- {
			if strings.HasSuffix(text, stop[:n]) {
				keep = n
				break
			}
		}
	}
	s.held = text[len(text)-keep:]
	return text[:len(text)-keep], false
}
