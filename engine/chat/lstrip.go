package chat

import (
	"regexp"
	"strings"
)

// endRaw finds the tag closing a {% raw %} block.
var endRaw = regexp.MustCompile(`\{%[-+]?\s*endraw\s*[-+]?%\}`)

// keepInlineIndent corrects gonja's lstrip_blocks for tags that do not
// start a line. jinja2 strips the spaces and tabs before a block or comment
// tag only when nothing but them precedes the tag on its line; gonja also
// strips the whitespace-only text between two tags on one line, so
// "{% endif %} {% if x %}" loses its space. Marking such tags "{%+" (jinja's
// own "do not lstrip" marker, which gonja honours) restores jinja2's output.
//
// It scans src the way jinja2 tokenises it: {{ }}, {% %} and {# #} tags,
// quoted strings inside tags (which may contain "%}"), and raw blocks whose
// content is plain text. An unterminated tag ends the scan and leaves the
// rest as is, for the parser to report.
func keepInlineIndent(src string) string {
	var b strings.Builder
	b.Grow(len(src) + 16)
	prevEnd := -1 // end of the previous tag; -1 before the first one
	i := 0
	for {
		j := nextTag(src, i)
		if j < 0 {
			break
		}
		kind := src[j+1]
		end := tagEnd(src, j)
		if end < 0 {
			break
		}
		if (kind == '%' || kind == '#') && prevEnd >= 0 && !hasControl(src, j) && inlineGap(src[prevEnd:j]) {
			b.WriteString(src[i : j+2])
			b.WriteByte('+')
			b.WriteString(src[j+2 : end])
		} else {
			b.WriteString(src[i:end])
		}
		i, prevEnd = end, end
		if kind == '%' && isRaw(src[j:end]) {
			loc := endRaw.FindStringIndex(src[end:])
			if loc == nil {
				break
			}
			// The raw content is text; the endraw tag is scanned next.
			b.WriteString(src[end : end+loc[0]])
			i = end + loc[0]
		}
	}
	b.WriteString(src[i:])
	return b.String()
}

// nextTag returns the index of the next "{{", "{%" or "{#" at or after i,
// or -1.
func nextTag(src string, i int) int {
	for {
		k := strings.IndexByte(src[i:], '{')
		if k < 0 || i+k+1 >= len(src) {
			return -1
		}
		i += k
		if c := src[i+1]; c == '{' || c == '%' || c == '#' {
			return i
		}
		i++
	}
}

// tagEnd returns the index just past the tag opening at j, skipping quoted
// strings in expression and block tags, or -1 if it is not closed.
func tagEnd(src string, j int) int {
	if src[j+1] == '#' {
		k := strings.Index(src[j+2:], "#}")
		if k < 0 {
			return -1
		}
		return j + 2 + k + 2
	}
	closer := byte('}')
	if src[j+1] == '%' {
		closer = '%'
	}
	for i := j + 2; i+1 < len(src); i++ {
		switch c := src[i]; {
		case c == '\'' || c == '"':
			k := i + 1
			for k < len(src) && src[k] != c {
				if src[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(src) {
				return -1
			}
			i = k
		case c == closer && src[i+1] == '}':
			return i + 2
		}
	}
	return -1
}

// hasControl reports whether the tag at j starts with a whitespace control
// character: "-" strips anyway and "+" already keeps the indent.
func hasControl(src string, j int) bool {
	return j+2 < len(src) && (src[j+2] == '-' || src[j+2] == '+')
}

// inlineGap reports whether gap, the text between two tags, is non-empty
// spaces and tabs with no newline: whitespace that jinja2 keeps (it is not
// at the start of a line) but gonja would strip.
func inlineGap(gap string) bool {
	return gap != "" && strings.Trim(gap, " \t") == ""
}

// isRaw reports whether tag is "{% raw %}" (with optional whitespace
// control).
func isRaw(tag string) bool {
	body := strings.TrimSpace(strings.Trim(tag[2:len(tag)-2], "-+"))
	return body == "raw"
}
