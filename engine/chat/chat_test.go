package chat

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderErrors(t *testing.T) {
	msgs := []Message{{Role: "user", Content: "hi"}}
	tests := []struct {
		name     string
		template string
		want     error
		contains string
	}{
		{"empty", "", ErrNoTemplate, ""},
		{"blank", " \n\t", ErrNoTemplate, ""},
		{"unclosed block", "{% for m in messages %}{{ m.content }}", ErrSyntax, ""},
		{"unclosed tag", "{{ messages", ErrSyntax, ""},
		{"unknown tag", "{% frobnicate %}", ErrSyntax, ""},
		{"include is not allowed", "{% include '/etc/passwd' %}", ErrRender, ""},
		{"import is not allowed", "{% import 'macros.j2' as m %}", ErrRender, ""},
		{"raise", "{{ raise_exception('no ' + messages[0].role) }}", ErrRaised, "no user"},
		{"range beyond the sandbox limit", "{% for i in range(100001) %}{% endfor %}", ErrRender, "range too big"},
		{"range step zero", "{{ range(1, 2, 0) }}", ErrRender, "step"},
		{"strftime directive", "{{ strftime_now('%Q') }}", ErrRender, "%Q"},
		{"tojson positional", "{{ messages | tojson(2) }}", ErrRender, "keyword"},
		{"endless macro recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", ErrRender, "nested deeper"},
		{"mutual macro recursion", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}",
			ErrRender, "nested deeper"},
		{"recursive loop", "{% for m in messages recursive %}{{ loop(messages) }}{% endfor %}", ErrSyntax, "recursive"},
		{"split empty separator", "{{ 'a'.split('') }}", ErrRender, "empty separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render(tt.template, msgs, Options{})
			require.Error(t, err, "rendered %q", out)
			assert.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.contains)
			assert.NotContains(t, err.Error(), tt.template+"\n", "the error must not quote the whole template")
		})
	}
}

// TestRenderSyntaxErrorIsShort checks that a syntax error names the problem
// without gonja's habit of quoting the entire template.
func TestRenderSyntaxErrorIsShort(t *testing.T) {
	tpl := strings.Repeat("padding text ", 200) + "{% if %}"
	_, err := Render(tpl, nil, Options{})
	require.ErrorIs(t, err, ErrSyntax)
	assert.Less(t, len(err.Error()), 400, err.Error())
}

// TestRenderBoundedRecursion checks that a macro may still recurse to a
// reasonable depth, as templates that render nested JSON schemas do.
func TestRenderBoundedRecursion(t *testing.T) {
	tpl := "{% macro down(n) %}{{ n }}{% if n > 0 %},{{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(5) }}"
	got, err := Render(tpl, nil, Options{})
	require.NoError(t, err)
	assert.Equal(t, "5,4,3,2,1,0", got)
}

func TestRenderVariables(t *testing.T) {
	tpl := "{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ messages | length }}|" +
		"{{ tools is none }}|{{ documents is none }}|{{ strftime_now('%Y-%m-%d') }}"
	now := time.Date(2025, 3, 9, 8, 0, 0, 0, time.UTC)
	got, err := Render(tpl, []Message{{"user", "a"}, {"assistant", "b"}}, Options{
		AddGenerationPrompt: true, BOSToken: "<s>", EOSToken: "</s>", Now: now,
	})
	require.NoError(t, err)
	assert.Equal(t, "<s>|</s>|True|2|True|True|2025-03-09", got)
}

func TestRenderDefaultNow(t *testing.T) {
	before := time.Now().Year()
	got, err := Render("{{ strftime_now('%Y') }}", nil, Options{})
	require.NoError(t, err)
	after := time.Now().Year()
	assert.Contains(t, []string{strconv.Itoa(before), strconv.Itoa(after)}, got)
}

// TestRenderConcurrent renders from several goroutines at once; run with
// -race it checks that the shared environment is not written during a
// render.
func TestRenderConcurrent(t *testing.T) {
	tpl := "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}" +
		"{{ m.content.strip() | tojson }}{% endfor %}{{ ns.n }}"
	msgs := []Message{{"user", " x "}, {"assistant", "y"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := Render(tpl, msgs, Options{})
				assert.NoError(t, err)
				assert.Equal(t, `"x""y"2`, got)
			}
		})
	}
	wg.Wait()
}

func TestKeepInlineIndent(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"line start is left alone", "a\n  {% if x %}b{% endif %}", "a\n  {% if x %}b{% endif %}"},
		{"first tag is left alone", "  {% if x %}", "  {% if x %}"},
		{"gap between tags", "{% if x %} {% if y %}", "{% if x %} {%+ if y %}"},
		{"gap after an expression", "{{ x }}\t{# c #}", "{{ x }}\t{#+ c #}"},
		{"no gap", "{% if x %}{% if y %}", "{% if x %}{% if y %}"},
		{"text in the gap", "{% if x %} a {% if y %}", "{% if x %} a {% if y %}"},
		{"newline in the gap", "{% if x %}\n {% if y %}", "{% if x %}\n {% if y %}"},
		{"explicit control is kept", "{% if x %} {%- if y %} {%+ if z %}", "{% if x %} {%- if y %} {%+ if z %}"},
		{"expressions are not blocks", "{% if x %} {{ y }}", "{% if x %} {{ y }}"},
		{"closers inside strings", `{{ '%} {%' }} {% if "}}" %}`, `{{ '%} {%' }} {%+ if "}}" %}`},
		{"escaped quote", `{{ 'it\'s %}' }} {% if x %}`, `{{ 'it\'s %}' }} {%+ if x %}`},
		{"comment hides tags", "{# {% if x %} #} {% if y %}", "{# {% if x %} #} {%+ if y %}"},
		{"raw content is text", "{% raw %} {% if x %} {% endraw %} {% if y %}",
			"{% raw %} {% if x %} {% endraw %} {%+ if y %}"},
		{"blank raw content", "{% raw %} {% endraw %}", "{% raw %} {%+ endraw %}"},
		{"unterminated tag", "{% if x %} {% if y", "{% if x %} {% if y"},
		{"unterminated string", "{% if x %} {{ 'abc }}", "{% if x %} {{ 'abc }}"},
		{"lone braces", "{ a } {% if x %}{", "{ a } {% if x %}{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keepInlineIndent(tt.in))
		})
	}
}
