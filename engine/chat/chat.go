// Package chat renders a model's chat template (the Jinja `chat_template`
// of tokenizer_config.json) into the prompt text the model was trained on.
//
// Rendering goes through gonja (a Go Jinja implementation) configured the way
// Hugging Face transformers configures jinja2 for apply_chat_template:
// trim_blocks and lstrip_blocks on, plus the globals and filters transformers
// adds (raise_exception, strftime_now, a json.dumps-style tojson). The
// variables are those transformers passes: messages, add_generation_prompt,
// bos_token, eos_token, and tools/documents set to none.
//
// Where gonja differs from jinja2 in ways chat templates depend on, a thin
// layer here restores jinja2's behaviour: lstrip_blocks for tags that do not
// start a line (lstrip.go), negative list indices, str.strip/split/replace
// and friends, the sandbox's range() (python.go), and the {% generation %}
// block. Every one is covered by goldens rendered with transformers
// (testdata/golden.json, from ci/reference/chat_golden.py). Differences that
// remain, none of which the real templates tested here use: printing none
// gives "" (jinja2: "None"); int ** int is a float; dict.items() lists keys
// sorted, not in insertion order; a few filters (wordcount, center) count
// differently; gemma-style conditional expressions inside parentheses may
// not parse.
//
// A template is data from a model file, so rendering is bounded: no file
// access ({% include %} and {% import %} fail), range() is capped, macro
// recursion is limited and recursive for-loops are refused, so that a
// hostile template ends in an error instead of a crash (guard.go).
package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
)

var (
	// ErrNoTemplate is returned when the template text is empty: the model
	// ships no chat template.
	ErrNoTemplate = errors.New("no chat template")
	// ErrSyntax wraps a template that does not parse.
	ErrSyntax = errors.New("chat template syntax error")
	// ErrRender wraps a failure while rendering a parsed template.
	ErrRender = errors.New("chat template render error")
	// ErrRaised wraps the message of a template's raise_exception(msg)
	// call, which templates use to reject a conversation (for example roles
	// that do not alternate). It is always also an ErrRender.
	ErrRaised = errors.New("chat template raised")
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Options are the template variables besides the messages.
type Options struct {
	// AddGenerationPrompt asks the template to end with the header that
	// opens an assistant turn, so the model writes the reply next.
	AddGenerationPrompt bool
	// BOSToken and EOSToken are the tokenizer's special token strings
	// (bos_token, eos_token); templates paste them into the text.
	BOSToken, EOSToken string
	// Now is the time strftime_now formats; the zero value means
	// time.Now(). Set it for reproducible prompts from templates that print
	// today's date.
	Now time.Time
}

// Render renders template for msgs. The result is byte-identical to
// transformers' apply_chat_template(msgs, tokenize=False,
// add_generation_prompt=o.AddGenerationPrompt) for the templates and
// features covered by the package's golden tests.
func Render(template string, msgs []Message, o Options) (string, error) {
	if strings.TrimSpace(template) == "" {
		return "", ErrNoTemplate
	}
	tpl, err := compile(template)
	if err != nil {
		return "", err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	messages := make(pyList, len(msgs))
	for i, m := range msgs {
		messages[i] = exec.Dict{Pairs: []*exec.Pair{
			{Key: exec.AsValue("role"), Value: exec.AsValue(m.Role)},
			{Key: exec.AsValue("content"), Value: exec.AsValue(m.Content)},
		}}
	}
	r := &raiser{}
	data := exec.NewContext(map[string]any{
		"messages":              messages,
		"add_generation_prompt": o.AddGenerationPrompt,
		"bos_token":             o.BOSToken,
		"eos_token":             o.EOSToken,
		"tools":                 nil,
		"documents":             nil,
		"raise_exception":       r.raise,
		"strftime_now":          strftimeNow(now),
		depthKey:                new(int),
	})
	out, err := execute(tpl, data)
	if r.msg != nil {
		return "", fmt.Errorf("%w: %w: %s", ErrRender, ErrRaised, *r.msg)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrRender, err)
	}
	return out, nil
}

// raiser implements raise_exception(msg): gonja has no exceptions, so the
// call records its message and returns an error value that aborts the
// render; Render then reports the recorded message.
type raiser struct {
	msg *string
}

func (r *raiser) raise(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	msg := ""
	if len(params.Args) > 0 {
		msg = params.Args[0].String()
	}
	if r.msg == nil {
		r.msg = &msg
	}
	return exec.AsValue(errors.New(msg))
}

// execute runs tpl, turning a panic inside gonja into an error: a template
// is data from a model file and must not take the process down.
func execute(tpl *exec.Template, data *exec.Context) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("gonja panicked: %v", p)
		}
	}()
	return tpl.ExecuteToString(data)
}
