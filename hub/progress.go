package hub

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// renderEvery throttles a terminal progress bar's redraws.
const renderEvery = 100 * time.Millisecond

// ProgressBar renders Options.Progress calls for a command line: on a
// terminal one line per file, redrawn in place, with a bar, bytes, percent,
// rate and ETA; elsewhere (a log, a pipe) one summary line per finished
// file. Use one ProgressBar per Resolve; it is not safe for concurrent use.
type ProgressBar struct {
	w           io.Writer
	interactive bool
	now         func() time.Time

	file       string
	start      time.Time // when this file's first update came
	startBytes int64     // bytes it already had then (a resumed download)
	drawn      time.Time // last redraw
}

// NewProgressBar writes to w, redrawing in place when w is a terminal.
func NewProgressBar(w io.Writer) *ProgressBar {
	interactive := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			interactive = true
		}
	}
	return &ProgressBar{w: w, interactive: interactive, now: time.Now}
}

// Update has Options.Progress's signature: set opts.Progress = bar.Update.
func (b *ProgressBar) Update(file string, downloaded, total int64) {
	now := b.now()
	if file != b.file {
		b.file, b.start, b.startBytes, b.drawn = file, now, downloaded, time.Time{}
	}
	done := downloaded >= total
	switch {
	case done && b.interactive:
		fmt.Fprintf(b.w, "\r\x1b[K%s\n", b.line(now, downloaded, total))
	case done:
		fmt.Fprintln(b.w, b.line(now, downloaded, total))
	case b.interactive && now.Sub(b.drawn) >= renderEvery:
		b.drawn = now
		fmt.Fprintf(b.w, "\r\x1b[K%s", b.line(now, downloaded, total))
	}
}

// line is "file [=====>    ] 12.0 MiB / 24.0 MiB  50%  3.0 MiB/s  ETA 4s"
// while downloading, and without the ETA once done. The rate counts only
// this run's bytes, not those a resumed file already had.
func (b *ProgressBar) line(now time.Time, downloaded, total int64) string {
	const width = 20
	filled := width
	pct := int64(100)
	if total > 0 {
		filled = int(downloaded * width / total)
		pct = downloaded * 100 / total
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	s := fmt.Sprintf("%s [%s] %s / %s %3d%%", b.file, bar, formatBytes(downloaded), formatBytes(total), pct)
	elapsed := now.Sub(b.start).Seconds()
	got := downloaded - b.startBytes
	if elapsed <= 0 || got <= 0 {
		return s
	}
	rate := float64(got) / elapsed
	s += fmt.Sprintf("  %s/s", formatBytes(int64(rate)))
	if downloaded < total {
		eta := time.Duration(float64(total-downloaded) / rate * float64(time.Second))
		s += "  ETA " + eta.Round(time.Second).String()
	}
	return s
}

// formatBytes prints n in B, KiB, MiB, GiB or TiB with one decimal.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB"} {
		v /= 1024
		if v < 1024 {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return fmt.Sprintf("%.1f TiB", v/1024)
}
