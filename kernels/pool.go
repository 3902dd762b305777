package kernels

import (
	"runtime"
	"sync"
)

// Pool is a fixed set of worker goroutines that split loops over [0, n)
// into contiguous chunks. The kernels in this package compute every output
// element in exactly one call, in the canonical order, so their results
// never depend on the number of threads or on how [0, n) was split.
//
// A nil *Pool is valid and runs everything on the calling goroutine. Calls
// to For on one Pool are serialised: concurrent callers take turns, and fn
// must not call For on the same Pool (that would deadlock). Workers block on
// channels when idle; they never spin, so an idle Pool costs no CPU.
type Pool struct {
	threads int
	mu      sync.Mutex // held for the whole of a For; guards the fields below
	closed  bool
	work    []chan span // one per worker; the caller runs chunk 0 itself
	wg      sync.WaitGroup
	job     job // read by the workers between a send on work and wg.Done
}

// span is one chunk [lo, hi) handed to a worker.
type span struct{ lo, hi int }

// job is what a worker runs on its span: either a caller's function or one
// of this package's matrix kernels. Keeping the kernels' arguments in a
// struct value, not a closure, lets MatVec and MatMul run on the pool
// without allocating.
type job struct {
	fn  func(lo, hi int)
	mat matJob
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
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, work: make([]chan span, threads-1)}
	for i := range p.work {
		c := make(chan span, 1)
		p.work[i] = c
		go p.worker(c)
	}
	return p
}

func (p *Pool) worker(c chan span) {
	for s := range c {
		p.job.run(s.lo, s.hi)
		p.wg.Done()
	}
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
// once: chunk i of k = min(Threads(), n) is [i*n/k, (i+1)*n/k). The caller
// runs chunk 0 and For returns when every chunk is done. n <= 0 does
// nothing. After Close, or on a nil Pool, fn(0, n) runs on the caller.
func (p *Pool) For(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	p.run(n, job{fn: fn})
}

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
	k := min(p.threads, n)
	p.job = j
	p.wg.Add(k - 1)
	for i := 1; i < k; i++ {
		p.work[i-1] <- span{i * n / k, (i + 1) * n / k}
	}
	p.job.run(0, n/k)
	p.wg.Wait()
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
	for _, c := range p.work {
		close(c)
	}
}
