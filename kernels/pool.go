package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of worker goroutines that split loops over [0, n)
// into contiguous chunks. The kernels in this package compute every output
// element in exactly one call, in the canonical order, so their results
// never depend on the number of threads or on how [0, n) was split.
//
// The caller and the workers claim chunks in turn until none is left, and
// a call returns when every chunk is done. A worker that is not running
// when a call starts (its core is busy with another process, or the
// game's own threads) simply claims nothing: the call does not wait for it
// to be scheduled. Workers poll briefly for the next call after each one
// (see spinPolls), then block on a channel, so an idle Pool costs no CPU.
//
// A nil *Pool is valid and runs everything on the calling goroutine. Calls
// to For on one Pool are serialised: concurrent callers take turns, and fn
// must not call For on the same Pool (that would deadlock).
type Pool struct {
	threads    int
	background bool       // workers run in BackgroundThread and never Gosched
	mu         sync.Mutex // held for the whole of a For; guards the fields below
	closed     bool
	wake       []chan struct{} // one per worker: a call has started
	done       chan struct{}   // the last running worker of a closed call has left
	job        job             // the call's work, read by the workers between join and leave
	next       atomic.Int64    // the next unclaimed chunk of job
	// state is stateClosed | the number of workers running the current
	// call. Between calls it is stateClosed, so a worker that wakes late
	// joins nothing.
	state atomic.Uint64
}

// stateClosed is the bit of Pool.state that says no worker may join.
const stateClosed = 1 << 63

// spinPolls is how many times a worker polls for the next call, and the
// caller for its last running worker, before blocking on a channel. Decode
// calls MatVec a few hundred times per token with microseconds in between,
// and blocking then waking a goroutine costs microseconds each time;
// polling first halved the cost of an empty two-thread For (515 -> 224
// ns). Each poll yields the processor (runtime.Gosched, ~90 ns), so
// polling never starves other goroutines, even with GOMAXPROCS=1, and
// after about 50 µs without work a worker blocks.
const spinPolls = 500

// backgroundSpins replaces spinPolls in a background pool, whose goroutines
// are locked to their threads: there runtime.Gosched would hand the
// processor to another thread and sleep until it comes back (two futex
// calls), so they poll without yielding, for about as long (~50 µs).
const backgroundSpins = 5000

// claimsPerThread is how many chunks per thread a matrix kernel's rows are
// cut into. More chunks balance better between threads of unequal speed;
// each claim costs an atomic add and a kernel call.
const claimsPerThread = 8

// job is a call's work: either a caller's function over For's chunks or
// one of this package's matrix kernels over chunks of chunk row blocks.
// Keeping the kernels' arguments in a struct value, not a closure, lets
// MatVec and MatMul run on the pool without allocating.
type job struct {
	fn     func(lo, hi int)
	mat    matJob
	n      int // the range [0, n) to cover
	chunks int // how many chunks it is cut into
	chunk  int // matrix kernels: units per chunk (the last may be shorter)
}

// span returns chunk i: For's [i*n/chunks, (i+1)*n/chunks), or the
// kernels' [i*chunk, min((i+1)*chunk, n)).
func (j *job) span(i int) (lo, hi int) {
	if j.fn != nil {
		return i * j.n / j.chunks, (i + 1) * j.n / j.chunks
	}
	return i * j.chunk, min((i+1)*j.chunk, j.n)
}

func (j *job) run(lo, hi int) {
	if j.fn != nil {
		j.fn(lo, hi)
		return
	}
	j.mat.run(lo, hi)
}

// NewPool starts a pool of threads goroutines in all, the caller included
// (so threads-1 workers are started). threads < 1 means
// runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool { return newPool(threads, false) }

// NewBackgroundPool is NewPool with every worker in a BackgroundThread, for
// inference that must never delay a game's own threads. Callers of For
// should be background threads too (each waits for the others by polling
// without yielding, which costs a normal-priority thread its time slice).
// The results are the same bits as NewPool's.
func NewBackgroundPool(threads int) *Pool { return newPool(threads, true) }

func newPool(threads int, background bool) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, background: background, wake: make([]chan struct{}, threads-1), done: make(chan struct{}, 1)}
	p.state.Store(stateClosed)
	for i := range p.wake {
		c := make(chan struct{}, 1)
		p.wake[i] = c
		go p.worker(c)
	}
	return p
}

// worker runs the calls' chunks until Close. A background worker returns
// still locked to its thread, which Go then ends (see BackgroundThread).
func (p *Pool) worker(wake chan struct{}) {
	if p.background {
		_ = BackgroundThread() // without the OS's support it still works, at normal priority
	}
	for {
		if !p.poll(wake) {
			return
		}
		if p.join() {
			p.claim()
			p.leave()
		}
	}
}

// join counts the worker in on the current call, unless it is closed.
func (p *Pool) join() bool {
	for {
		s := p.state.Load()
		if s&stateClosed != 0 {
			return false
		}
		if p.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// leave counts the worker out; the last one to leave a closed call tells
// the caller.
func (p *Pool) leave() {
	if s := p.state.Add(^uint64(0)); s == stateClosed {
		p.done <- struct{}{}
	}
}

// claim runs chunks of the current call until none is left.
func (p *Pool) claim() {
	j := &p.job
	for {
		i := int(p.next.Add(1)) - 1
		if i >= j.chunks {
			return
		}
		j.run(j.span(i))
	}
}

// poll receives from c, polling (spinPolls or backgroundSpins times)
// before blocking; ok is false once c is closed.
func (p *Pool) poll(c chan struct{}) (ok bool) {
	if p.background {
		for range backgroundSpins {
			select {
			case _, ok = <-c:
				return ok
			default:
			}
		}
	} else {
		for range spinPolls {
			select {
			case _, ok = <-c:
				return ok
			default:
				runtime.Gosched()
			}
		}
	}
	_, ok = <-c
	return ok
}

// Threads returns how many goroutines, the caller included, share a For.
// A nil Pool has one thread.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// For calls fn on contiguous chunks that together cover [0, n) exactly
// once: chunk i of k = min(Threads(), n) is [i*n/k, (i+1)*n/k), run by
// whichever thread claims it (the caller claims first). For returns when
// every chunk is done. n <= 0 does nothing. After Close, or on a nil Pool,
// fn(0, n) runs on the caller.
func (p *Pool) For(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	p.run(n, job{fn: fn})
}

// run runs j over [0, n): For's function in min(threads, n) chunks, a
// matrix kernel in claimsPerThread chunks per thread.
func (p *Pool) run(n int, j job) {
	if p == nil || p.threads == 1 || n == 1 {
		j.run(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		j.run(0, n)
		return
	}
	j.n = n
	if j.fn != nil {
		j.chunks = min(p.threads, n)
	} else {
		j.chunk = max(n/(p.threads*claimsPerThread), 1)
		j.chunks = (n + j.chunk - 1) / j.chunk
	}
	p.job = j
	p.next.Store(0)
	p.state.Store(0) // open, no worker running
	for _, c := range p.wake {
		select {
		case c <- struct{}{}:
		default: // the worker has a wake-up pending already
		}
	}
	p.claim()
	if s := p.state.Or(stateClosed); s != 0 { // workers still running
		p.poll(p.done)
	}
	p.job = job{} // drop references to the caller's slices
}

// Close stops the workers. It waits for a For in progress to finish; later
// calls to For run on the caller. Close on a nil or closed Pool does
// nothing.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, c := range p.wake {
		close(c)
	}
}
