package kernels

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPoolForCoversRange checks that For hands out contiguous chunks that
// cover [0, n) exactly once, for pools of several sizes and a nil pool.
func TestPoolForCoversRange(t *testing.T) {
	for _, threads := range []int{0, 1, 2, 3, 7} {
		var p *Pool
		if threads > 0 {
			p = NewPool(threads)
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
	p := NewPool(3)
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
