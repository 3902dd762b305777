package hub

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// fakeClock advances by step at every reading.
func fakeClock(step time.Duration) func() time.Time {
	t := time.Unix(1_700_000_000, 0)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func TestProgressBarTerminal(t *testing.T) {
	var out bytes.Buffer
	b := &ProgressBar{w: &out, interactive: true, now: fakeClock(time.Second)}
	const mib = 1 << 20
	b.Update("model.safetensors", 0, 4*mib)     // t=1s: first update of the file
	b.Update("model.safetensors", 1*mib, 4*mib) // t=2s: 1 MiB in 1 s
	b.Update("model.safetensors", 4*mib, 4*mib) // t=3s: done

	frames := strings.Split(out.String(), "\r\x1b[K")
	if assert.Len(t, frames, 4) {
		assert.Equal(t, "model.safetensors [>                   ] 0 B / 4.0 MiB   0%", frames[1])
		assert.Equal(t, "model.safetensors [=====>              ] 1.0 MiB / 4.0 MiB  25%  1.0 MiB/s  ETA 3s", frames[2])
		assert.Equal(t, "model.safetensors [====================] 4.0 MiB / 4.0 MiB 100%  2.0 MiB/s\n", frames[3])
	}
}

func TestProgressBarThrottlesRedraws(t *testing.T) {
	var out bytes.Buffer
	b := &ProgressBar{w: &out, interactive: true, now: fakeClock(time.Millisecond)}
	for i := int64(0); i < 1000; i++ {
		b.Update("f", i, 1000)
	}
	assert.Equal(t, 10, strings.Count(out.String(), "\r"), "one redraw per 100 ms over 1 s")
	b.Update("f", 1000, 1000)
	assert.True(t, strings.HasSuffix(out.String(), "\n"), "the finished line stays")
}

func TestProgressBarLog(t *testing.T) {
	var out bytes.Buffer
	b := &ProgressBar{w: &out, now: fakeClock(time.Second)}
	b.Update("config.json", 0, 2048)
	b.Update("config.json", 1024, 2048)
	assert.Empty(t, out.String(), "no partial lines in a log")
	b.Update("config.json", 2048, 2048)
	b.Update("model.safetensors", 3<<30, 3<<30) // already cached: one update
	assert.Equal(t, "config.json [====================] 2.0 KiB / 2.0 KiB 100%  1.0 KiB/s\n"+
		"model.safetensors [====================] 3.0 GiB / 3.0 GiB 100%\n", out.String())
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"}, {7 << 30, "7.0 GiB"}, {3 << 40, "3.0 TiB"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, formatBytes(tt.n))
	}
}
