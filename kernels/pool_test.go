package kernels

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// pools are the two kinds of Pool, which must behave alike.
var pools = []struct {
	name string
	new  func(threads int) *Pool
}{{"normal", NewPool}, {"background", NewBackgroundPool}}

// TestPoolForCoversRange checks that For hands out contiguous chunks that
// cover [0, n) exactly once, for pools of several sizes and a nil pool.
func TestPoolForCoversRange(t *testing.T) {
	for _, kind := range pools {
		t.Run(kind.name, func(t *testing.T) { testPoolForCoversRange(t, kind.new) })
	}
}

func testPoolForCoversRange(t *testing.T, newPool func(int) *Pool) {
	for _, threads := range []int{0, 1, 2, 3, 7} {
		var p *Pool
		if threads > 0 {
			p = newPool(threads)
		}
		for _, n := range []int{-1, 0, 1, 2, 3, 6, 7, 8, 100} {
			hits := make([]int, max(n, 0))
			var mu sync.Mutex
			calls := 0
			p.For(n, func(lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				assert.Less(t, lo, hi, "empty chunk")
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				assert.Equal(t, 1, h, "threads=%d n=%d index %d", threads, n, i)
			}
			assert.Equal(t, min(max(n, 0), p.Threads()), calls, "threads=%d n=%d", threads, n)
		}
		p.Close()
	}
}

func TestPoolThreadsAndClose(t *testing.T) {
	var nilPool *Pool
	assert.Equal(t, 1, nilPool.Threads())
	nilPool.Close()
	p := NewPool(3)
	assert.Equal(t, 3, p.Threads())
	p.Close()
	p.Close()
	ran := 0
	p.For(5, func(lo, hi int) { ran += hi - lo })
	assert.Equal(t, 5, ran, "For after Close runs on the caller")
}

// TestPoolConcurrentCallers checks that For calls from several goroutines
// on one pool take turns correctly (run it with -race).
func TestPoolConcurrentCallers(t *testing.T) {
	for _, kind := range pools {
		t.Run(kind.name, func(t *testing.T) { testPoolConcurrentCallers(t, kind.new(3)) })
	}
}

func testPoolConcurrentCallers(t *testing.T, p *Pool) {
	defer p.Close()
	var wg sync.WaitGroup
	sums := make([]int, 4)
	for g := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				part := make([]int, 100)
				p.For(100, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						part[i] = i
					}
				})
				for _, v := range part {
					sums[g] += v
				}
			}
		}()
	}
	wg.Wait()
	for g, s := range sums {
		assert.Equal(t, 50*4950, s, "goroutine %d", g)
	}
}

func TestPoolMatVecDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	w := randMat(&rng{5}, 64, 64, F16, false)
	x := make([]float32, 64)
	y := make([]float32, 64)
	allocs := testing.AllocsPerRun(100, func() { MatVec(p, y, w, x) })
	assert.Zero(t, allocs)
}

// TestBackgroundPoolSameBits checks that a background pool's matrix
// kernels give the bits of a normal pool's, with its caller a background
// thread too, as in the Godot extension.
func TestBackgroundPoolSameBits(t *testing.T) {
	r := &rng{11}
	w := randMat(r, 61, 300, BF16, false)
	x := r.vec(7*300, false)
	want := make([]float32, 7*61)
	normal := NewPool(3)
	MatMul(normal, want, w, x, 7)
	normal.Close()

	got := make([]float32, 7*61)
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, BackgroundThread())
		bg := NewBackgroundPool(3)
		defer bg.Close()
		MatMul(bg, got, w, x, 7)
		MatVec(bg, got[:61], w, x[:300])
	}()
	<-done
	assert.Equal(t, bitsOf(want[61:]), bitsOf(got[61:]))
	MatVec(nil, want[:61], w, x[:300])
	assert.Equal(t, bitsOf(want[:61]), bitsOf(got[:61]))
}
