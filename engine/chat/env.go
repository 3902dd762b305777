package chat

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// templateName is the only name the loader knows, so a template's
// {% include %} or {% import %} of anything (a file, say) fails.
const templateName = "/chat_template"

// environment returns the gonja environment shared by every render: gonja's
// builtins with transformers' tojson filter and {% generation %} block,
// Python's str methods where gonja's differ (python.go), the sandbox's
// range(), and bounds on recursion (guard.go). The per-render globals (raise_exception, strftime_now) live in
// the render context.
var environment = sync.OnceValue(func() *exec.Environment {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).
		Update(builtins.Filters).
		Update(exec.NewFilterSet(map[string]exec.FilterFunction{"tojson": filterToJSON}))
	controls := exec.NewControlStructureSet(map[string]parser.ControlStructureParser{}).
		Update(builtins.ControlStructures).
		Update(exec.NewControlStructureSet(map[string]parser.ControlStructureParser{
			"generation": parseGeneration,
			"for":        parseFor,
			"macro":      parseMacro,
		}))
	globals := exec.EmptyContext().
		Update(builtins.GlobalFunctions).
		Update(exec.NewContext(map[string]any{"range": pyRange}))
	return &exec.Environment{
		Context:           globals,
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: controls,
		Methods:           methods(),
	}
})

// generation is transformers' {% generation %}...{% endgeneration %} block
// (its AssistantTracker extension), which marks assistant text for training
// masks; when rendering a prompt it outputs its body unchanged.
type generation struct {
	body *nodes.Wrapper
}

func parseGeneration(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	body, _, err := p.WrapUntil("endgeneration")
	if err != nil {
		return nil, err
	}
	if !args.Stream().End() {
		return nil, args.Error("generation takes no arguments", nil)
	}
	return &generation{body: body}, nil
}

func (g *generation) Position() *tokens.Token { return g.body.Position() }

func (g *generation) String() string {
	t := g.Position()
	return fmt.Sprintf("GenerationControlStructure(Line=%d Col=%d)", t.Line, t.Col)
}

// Execute renders the body in its own scope, as jinja2 renders a call
// block's body.
func (g *generation) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	return r.Inherit().ExecuteWrapper(g.body)
}

// templateConfig is jinja2's default syntax with transformers' settings:
// trim_blocks and lstrip_blocks on, no autoescape, a single trailing
// newline of the template dropped.
func templateConfig() *config.Config {
	c := config.New()
	c.TrimBlocks = true
	c.LeftStripBlocks = true
	return c
}

// compile parses template in the chat environment.
func compile(template string) (tpl *exec.Template, err error) {
	loader, err := loaders.NewMemoryLoader(map[string]string{templateName: keepInlineIndent(template)})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	// gonja's parser can panic on malformed input; a template is data from
	// a model file and must never take the process down.
	defer func() {
		if r := recover(); r != nil {
			tpl, err = nil, fmt.Errorf("%w: %v", ErrSyntax, r)
		}
	}()
	tpl, err = exec.NewTemplate(templateName, templateConfig(), loader, environment())
	if err != nil {
		// gonja's own wrapper quotes the whole template; keep the cause.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return tpl, nil
}
