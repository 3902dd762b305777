package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// jsonScanner reads the two large parts of tokenizer.json, the vocabulary
// object and the merge list, several times faster than encoding/json
// (which would also validate the bytes again). Its input has already been
// validated by json.Unmarshal of the enclosing document, but it still
// checks every byte it relies on and never panics.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrMalformed, fmt.Sprintf(format, args...), s.i)
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jsonScanner) expect(c byte) error {
	if s.peek() != c {
		return s.errorf("expected %q", c)
	}
	s.i++
	return nil
}

// str reads a JSON string. Strings with escapes or invalid UTF-8 go through
// encoding/json so that they decode exactly as it decodes them.
func (s *jsonScanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.errorf("expected a string")
	}
	start := s.i
	s.i++
	plain := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if plain {
				return string(s.b[start+1 : s.i-1]), nil
			}
			var out string
			if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
				return "", s.errorf("bad string: %v", err)
			}
			return out, nil
		case c == '\\':
			plain = false
			s.i += 2
		case c < 0x20:
			return "", s.errorf("control character in string")
		case c >= utf8.RuneSelf:
			r, w := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && w == 1 {
				plain = false
			}
			s.i += w
		default:
			s.i++
		}
	}
	return "", s.errorf("unterminated string")
}

// integer reads a JSON integer.
func (s *jsonScanner) integer() (int, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, s.errorf("expected an integer")
	}
	v, err := strconv.Atoi(string(s.b[start:s.i]))
	if err != nil {
		return 0, s.errorf("expected an integer")
	}
	return v, nil
}

// parseVocab reads the {"token": id, ...} object. A repeated token keeps
// its last id, as encoding/json and serde do.
func parseVocab(raw []byte) (map[string]int, error) {
	s := &jsonScanner{b: raw}
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	vocab := make(map[string]int, len(raw)/16)
	if s.peek() == '}' {
		s.i++
		return vocab, nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		v, err := s.integer()
		if err != nil {
			return nil, err
		}
		vocab[k] = v
		if len(vocab) > MaxVocab {
			return nil, fmt.Errorf("%w: vocab has more than %d tokens", ErrMalformed, MaxVocab)
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return vocab, nil
		default:
			return nil, s.errorf("expected ',' or '}' in vocab")
		}
	}
}

// parseMerges reads merges as ["a b", ...] (lines starting with "#version"
// skipped, as HF does) or [["a", "b"], ...]; mixing both forms is an error
// in HF too.
func parseMerges(raw []byte) ([][2]string, error) {
	s := &jsonScanner{b: raw}
	if err := s.expect('['); err != nil {
		return nil, fmt.Errorf("merges: %w", err)
	}
	var pairs [][2]string
	if s.peek() == ']' {
		return pairs, nil
	}
	pairForm := s.peek() == '['
	for n := 0; ; n++ {
		if n >= MaxMerges {
			return nil, fmt.Errorf("%w: more than %d merges", ErrMalformed, MaxMerges)
		}
		var p [2]string
		if pairForm {
			if err := s.expect('['); err != nil {
				return nil, fmt.Errorf("merge %d: %w", n, err)
			}
			for k := 0; k < 2; k++ {
				if k == 1 {
					if err := s.expect(','); err != nil {
						return nil, fmt.Errorf("merge %d is not a pair: %w", n, err)
					}
				}
				t, err := s.str()
				if err != nil {
					return nil, fmt.Errorf("merge %d: %w", n, err)
				}
				p[k] = t
			}
			if err := s.expect(']'); err != nil {
				return nil, fmt.Errorf("merge %d is not a pair: %w", n, err)
			}
			pairs = append(pairs, p)
		} else {
			line, err := s.str()
			if err != nil {
				return nil, fmt.Errorf("merge %d: %w", n, err)
			}
			if len(line) < 8 || line[:8] != "#version" {
				a, b, ok := cutSpace(line)
				if !ok {
					return nil, fmt.Errorf("%w: merge %d %q is not two tokens", ErrMalformed, len(pairs)+1, line)
				}
				pairs = append(pairs, [2]string{a, b})
			}
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			return pairs, nil
		default:
			return nil, s.errorf("expected ',' or ']' in merges")
		}
	}
}

// cutSpace splits "a b" at its only space, as HF's split(' ') with exactly
// two parts requires.
func cutSpace(s string) (string, string, bool) {
	i := -1
	for k := 0; k < len(s); k++ {
		if s[k] == ' ' {
			if i >= 0 {
				return "", "", false
			}
			i = k
		}
	}
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
