package dialogue

import (
	"context"
	"sync"

	"github.com/loomai/loom/engine/audit"
	"github.com/loomai/loom/engine/generate"
)

// Job is one generation running on its own goroutine. The goroutine pushes
// decoded pieces of text; the game's main thread takes them (Take) and
// turns them into signals. All methods are safe from any goroutine.
type Job struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	pieces   []string // pushed, not yet taken
	finished bool
	result   Result
}

// Result is how a job ended.
type Result struct {
	// Text is the whole generated text (every piece, taken or not).
	Text string
	// Stats are generate's statistics (tokens, timings, stop reason).
	Stats generate.Stats
	// Err is nil when generation ended normally (EOS, stop string, token
	// limit, full context); it wraps context.Canceled after Cancel.
	Err error
	// Audit identifies the generation; it is set only when Err is nil.
	Audit Audit
}

// Audit is what `loom verify` prints for a generation, so that two runs
// (two players' machines, a replay, a bug report) can be compared, plus
// what verify needs to repeat it. The prompt is identified by its token
// ids, the conversation exactly as the model read it (chat template,
// history and system prompt included): InputSHA256 equals verify's for
// `--ids PromptIDs` with the same max tokens and sampler settings.
type Audit struct {
	// ModelSHA256 is audit.ModelSHA256 of the model's files.
	ModelSHA256 string
	// InputSHA256 is audit.Input{IDs, MaxTokens, StopStrings, Sample}'s
	// hash; StopStrings are the effective ones (the transcript's "\nUser:"
	// included), which verify has no flag for.
	InputSHA256 string
	// PromptIDs is the whole prompt, cached part included.
	PromptIDs []int
	// IDs are the generated token ids, a final EOS included.
	IDs []int
	// LogitsSHA256 is audit.LogitsHash over every step's logits.
	LogitsSHA256 string
	// Text is the generated text.
	Text string
	// Seed is the sampler's seed.
	Seed uint64
}

// newAudit fills an Audit once a generation ended normally.
func newAudit(modelSum string, in audit.Input, ids []int, logits *audit.LogitsHash, text string) Audit {
	return Audit{
		ModelSHA256: modelSum, InputSHA256: in.SHA256(), PromptIDs: in.IDs, IDs: ids,
		LogitsSHA256: logits.Sum(), Text: text, Seed: in.Sample.Seed,
	}
}

// Cancel asks the job to stop; it ends within one token. Pieces already
// pushed stay available to Take.
func (j *Job) Cancel() { j.cancel() }

// Done is closed when the job's goroutine has finished.
func (j *Job) Done() <-chan struct{} { return j.done }

// Take returns up to max pieces of text in order (max <= 0: all; a piece
// is never empty), and whether the job is over with nothing left to take.
func (j *Job) Take(max int) (pieces []string, over bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := len(j.pieces)
	if max > 0 && n > max {
		n = max
	}
	pieces = append(pieces, j.pieces[:n]...)
	j.pieces = j.pieces[n:]
	return pieces, j.finished && len(j.pieces) == 0
}

// Result returns how the job ended; it is only complete once Done is
// closed.
func (j *Job) Result() Result {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.result
}

func (j *Job) push(piece string) {
	if piece == "" {
		return
	}
	j.mu.Lock()
	j.pieces = append(j.pieces, piece)
	j.mu.Unlock()
}

func (j *Job) finish(r Result) {
	j.mu.Lock()
	j.result = r
	j.finished = true
	j.mu.Unlock()
	j.cancel() // release the context's resources
	close(j.done)
}
