package dialogue

import (
	"context"
	"sync"

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
