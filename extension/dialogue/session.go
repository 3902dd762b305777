package dialogue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/loomai/loom/engine/audit"
	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/generate"
	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
)

// Session is one NPC's state on a model: its KV cache and the tokens in
// it. A new turn re-uses the cache for the part of its prompt that matches
// the previous one, so a conversation is not re-read from the start every
// turn.
type Session struct {
	model *Model

	mu     sync.Mutex // held by the job that uses the cache
	cache  *model.Cache
	tokens []int // the tokens whose keys and values are in cache
}

// NewSession returns an empty session on m. Its cache grows as it is used.
func (m *Model) NewSession() *Session { return &Session{model: m} }

// Model returns the model the session runs on.
func (s *Session) Model() *Model { return s.model }

// Request is one generation.
type Request struct {
	// Messages is the conversation to reply to (the last one is usually
	// the user's); nil means a raw completion of Prompt.
	Messages []chat.Message
	// Prompt is the text to continue when Messages is nil.
	Prompt string
	// UseChatTemplate renders Messages with the model's chat template.
	// Without it, or when the model has none, Messages become a plain
	// "User: ... / Assistant: ..." transcript and "\nUser:" is added to the
	// stop strings.
	UseChatTemplate bool
	// MaxTokens bounds the reply; it must be positive.
	MaxTokens int
	// StopStrings end the reply; the stop string itself is not part of it.
	StopStrings []string
	// Sample selects the sampler.
	Sample sample.Options
}

// transcriptStop ends a reply in transcript mode when the model starts
// writing the user's next line.
const transcriptStop = "\nUser:"

// Start begins generating on a new goroutine (a background thread when the
// model was loaded with Options.Background) and returns at once. Jobs on
// one session run one after the other: a job started while an earlier one
// is still winding down (after Cancel) waits for it.
func (s *Session) Start(r Request) *Job {
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go s.run(j, r)
	return j
}

func (s *Session) run(j *Job, r Request) {
	if s.model.bg {
		// The goroutine ends locked, and its thread with it.
		_ = kernels.BackgroundThread() // without the OS's support it runs at normal priority
	}
	res := Result{}
	defer func() { j.finish(res) }()
	if err := s.model.acquire(); err != nil {
		res.Err = err
		return
	}
	defer s.model.release()
	s.mu.Lock()
	defer s.mu.Unlock()

	prompt, stops, err := s.model.prompt(r)
	if err != nil {
		res.Err = err
		return
	}
	if !acquireTurn(j.ctx) {
		res.Err = fmt.Errorf("generate: %w", j.ctx.Err())
		return
	}
	held := true
	defer func() {
		if held {
			releaseTurn()
		}
	}()

	if s.cache == nil {
		s.cache = s.model.m.NewCache(0)
	}
	if len(prompt) >= s.cache.MaxLen() {
		res.Err = fmt.Errorf("%w: %d tokens, context length %d", ErrPromptTooLong, len(prompt), s.cache.MaxLen())
		return
	}
	keep := reusable(s.tokens, prompt, r.Sample)
	s.cache.Truncate(keep)
	logits := audit.NewLogitsHash()
	o := generate.Options{MaxTokens: r.MaxTokens, StopStrings: stops, EOSTokenIDs: s.model.eos, Sample: r.Sample, OnLogits: logits.Add}
	var ids []int
	var text strings.Builder
	since := time.Now()
	res.Stats, res.Err = generate.Run(j.ctx, s.model.m, s.model.tok, s.cache, prompt[keep:], o, func(t generate.Token) error {
		ids = append(ids, t.ID)
		text.WriteString(t.Text)
		j.push(t.Text)
		if time.Since(since) < turnSlice {
			return nil
		}
		// Pass the turn to the next waiting job, then queue for it again.
		releaseTurn()
		held = false
		if !acquireTurn(j.ctx) {
			return j.ctx.Err()
		}
		held = true
		since = time.Now()
		return nil
	})
	res.Text = text.String()
	if res.Err == nil {
		in := audit.Input{IDs: prompt, MaxTokens: r.MaxTokens, StopStrings: stops, Sample: r.Sample,
			Quantize: s.model.quantize, KVCache: s.model.m.KVCache()}
		res.Audit = newAudit(s.model.sha256, in, ids, logits, res.Text)
	}
	// The cache now holds a prefix of prompt+ids (Run never feeds the
	// last sampled token back); remember which.
	all := append(slices.Clip(prompt), ids...)
	if n := s.cache.Len(); n <= len(all) {
		s.tokens = append(s.tokens[:0], all[:n]...)
	} else {
		s.cache.Truncate(0)
		s.tokens = s.tokens[:0]
	}
}

// reusable returns how many leading tokens of prompt can stay in a cache
// that holds cached: their common prefix, less one so that at least one
// token is fed (the reply needs fresh logits). When penalties look at the
// last N tokens, the fed part keeps at least N of them, because the sampler
// sees only what is fed: so a reply never depends on what happened to be
// cached, and a restored conversation replies exactly like the original.
func reusable(cached, prompt []int, o sample.Options) int {
	n := 0
	for n < len(cached) && n < len(prompt) && cached[n] == prompt[n] {
		n++
	}
	n = min(n, len(prompt)-1)
	penalized := (o.RepeatPenalty != 0 && o.RepeatPenalty != 1) || o.PresencePenalty != 0 || o.FrequencyPenalty != 0
	if penalized {
		window := len(prompt) // PenaltyLastN <= 0: the whole history
		if o.PenaltyLastN > 0 {
			window = o.PenaltyLastN
		}
		n = min(n, len(prompt)-window)
	}
	return max(n, 0)
}

// prompt turns a request into token ids and the stop strings to use.
func (m *Model) prompt(r Request) ([]int, []string, error) {
	if r.Messages == nil {
		return m.tok.Encode(r.Prompt, true), r.StopStrings, nil
	}
	if r.UseChatTemplate && m.template != "" {
		text, err := chat.Render(m.template, r.Messages, chat.Options{AddGenerationPrompt: true, BOSToken: m.tok.BOSToken(), EOSToken: m.tok.EOSToken()})
		if err != nil {
			return nil, nil, err
		}
		// The template writes the special tokens itself, as in
		// transformers' apply_chat_template(tokenize=True).
		return m.tok.Encode(text, false), r.StopStrings, nil
	}
	return m.tok.Encode(transcript(r.Messages), true), append(slices.Clone(r.StopStrings), transcriptStop), nil
}

// transcript writes a conversation as plain text for models without a chat
// template: the system prompt, then "User: ..." and "Assistant: ..." lines,
// ending with "Assistant:" for the reply.
func transcript(msgs []chat.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString(m.Content + "\n\n")
		case "user":
			b.WriteString("User: " + m.Content + "\n")
		case "assistant":
			b.WriteString("Assistant: " + m.Content + "\n")
		default:
			b.WriteString(m.Role + ": " + m.Content + "\n")
		}
	}
	b.WriteString("Assistant:")
	return b.String()
}

// turnSlice is how long a job keeps the turn before passing it on (at a
// token boundary). Passing it wakes another goroutine's thread; doing that
// after every token would cost the game's threads CPU for nothing, while a
// slice shorter than a frame still streams every NPC frame by frame.
const turnSlice = 10 * time.Millisecond

// turn is the process-wide right to run a model: a token in a channel of
// capacity one. Waiting receivers are served first come, first served.
var turn = func() chan struct{} {
	c := make(chan struct{}, 1)
	c <- struct{}{}
	return c
}()

func acquireTurn(ctx context.Context) bool {
	select {
	case <-turn:
		return true
	case <-ctx.Done():
		return false
	}
}

func releaseTurn() { turn <- struct{}{} }
