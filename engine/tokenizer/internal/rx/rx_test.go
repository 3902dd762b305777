package rx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type regexCases struct {
	Cases []struct {
		Pattern    string   `json:"pattern"`
		Inputs     []string `json:"inputs"`
		WithCorpus bool     `json:"with_corpus"`
	} `json:"cases"`
}

type regexExpected struct {
	Results []struct {
		Pattern string `json:"pattern"`
		Error   string `json:"error"`
		Outputs []struct {
			Isolated []string `json:"isolated"`
			Removed  []string `json:"removed"`
		} `json:"outputs"`
	} `json:"results"`
}

// splits turns matches into the segments HF's Split pre-tokenizer produces
// with the Isolated (keep matches) or Removed (drop matches) behaviour;
// empty segments are dropped as PreTokenizedString does.
func splits(text string, matches [][2]int, keepMatches bool) []string {
	out := []string{}
	prev := 0
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, m := range matches {
		add(text[prev:m[0]])
		if keepMatches {
			add(text[m[0]:m[1]])
		}
		prev = m[1]
	}
	add(text[prev:])
	return out
}

// TestConformance compares rx with Oniguruma through HF tokenizers' Split
// pre-tokenizer on every probe of testdata/regex_cases.json; the expected
// splits come from ci/reference/tokenizer_golden.mjs.
func TestConformance(t *testing.T) { conformance(t) }

// TestConformanceMemo runs the same probes with a zero step budget, so
// that every search runs in the memoised mode.
func TestConformanceMemo(t *testing.T) {
	saved := stepBudget
	stepBudget = func(int) int { return 0 }
	defer func() { stepBudget = saved }()
	conformance(t)
}

// TestPathological checks that patterns with exponential backtracking
// finish on long inputs, with the same result as the memoised mode gives
// on short ones.
func TestPathological(t *testing.T) {
	cases := []struct {
		pattern, input string
	}{
		{`(a|aa)*c`, strings.Repeat("a", 4000)},
		{`(a*)*b`, strings.Repeat("a", 4000)},
		{`(\s*\s*)*x`, strings.Repeat(" ", 3000)},
		{`(?>(a|aa)*)c|a`, strings.Repeat("a", 3000)},
		{`(?=(a|aa)*c)a|b`, strings.Repeat("a", 2000)},
	}
	for _, c := range cases {
		re, err := Compile(c.pattern)
		require.NoError(t, err, c.pattern)
		start := time.Now()
		got := re.FindAll(c.input)
		assert.Less(t, time.Since(start), 20*time.Second, c.pattern)
		// Reference: a short input in fast mode, whose matches must be
		// the same shape (every char or no match at all).
		short := c.input[:20]
		want := re.FindAll(short)
		if len(want) == 0 {
			assert.Empty(t, got, c.pattern)
		} else {
			assert.Equal(t, len(want)*len(c.input)/len(short), len(got), c.pattern)
		}
	}
}

func conformance(t *testing.T) {
	td := filepath.Join("..", "..", "testdata")
	var cases regexCases
	var want regexExpected
	raw, err := os.ReadFile(filepath.Join(td, "regex_cases.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &cases))
	raw, err = os.ReadFile(filepath.Join(td, "regex_expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	corpusRaw, err := os.ReadFile(filepath.Join(td, "corpus.txt"))
	require.NoError(t, err)
	corpus := string(corpusRaw)
	require.Len(t, want.Results, len(cases.Cases))
	for i, c := range cases.Cases {
		w := want.Results[i]
		require.Equal(t, c.Pattern, w.Pattern)
		re, err := Compile(c.Pattern)
		if w.Error != "" {
			assert.Error(t, err, "pattern %q: Oniguruma rejects it (%s)", c.Pattern, w.Error)
			continue
		}
		if !assert.NoError(t, err, "pattern %q", c.Pattern) {
			continue
		}
		inputs := c.Inputs
		if c.WithCorpus {
			inputs = append(append(append([]string{}, inputs...), strings.Split(corpus, "\n")...), corpus)
		}
		require.Len(t, w.Outputs, len(inputs))
		for j, in := range inputs {
			m := re.FindAll(in)
			assert.Equal(t, w.Outputs[j].Isolated, splits(in, m, true), "pattern %q input %q (isolated)", c.Pattern, in)
			assert.Equal(t, w.Outputs[j].Removed, splits(in, m, false), "pattern %q input %q (removed)", c.Pattern, in)
		}
	}
}
