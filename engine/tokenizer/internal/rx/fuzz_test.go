package rx

import (
	"testing"
	"unicode/utf8"
)

// FuzzRegex compiles arbitrary patterns (tokenizer.json is untrusted) and
// runs them: no panic, and every match is in order, within the text and on
// character boundaries.
func FuzzRegex(f *testing.F) {
	for _, p := range []string{
		`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
		`(a|aa)*c`, `(?<=ab|c)d`, `[[:alpha:]&&x]`, `x{2,3}?y++`, `(?>a+)b|\bfoo\B`, `(?m)^.$`, `[^(\s|[.,!?…])]+`,
	} {
		f.Add(p, "Hello, world! 123 ab c\n\n  ſ K 日本")
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		re, err := Compile(pattern)
		if err != nil {
			return
		}
		if !utf8.ValidString(text) {
			return
		}
		prev := 0
		for _, m := range re.FindAll(text) {
			if m[0] < prev || m[1] < m[0] || m[1] > len(text) {
				t.Fatalf("bad match %v after %d in %q", m, prev, text)
			}
			if m[0] < len(text) && !utf8.RuneStart(text[m[0]]) || m[1] < len(text) && !utf8.RuneStart(text[m[1]]) {
				t.Fatalf("match %v splits a character of %q", m, text)
			}
			prev = m[1]
		}
	})
}
