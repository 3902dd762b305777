package chat

import (
	"errors"
	"fmt"

	controls "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// A template that recurses without end would grow the Go stack until the
// runtime kills the process, which no recover can stop; a chat template is
// data from a model file and must not be able to do that. jinja2 stops such
// a template with a RecursionError, so these guards only turn a crash into
// an error.

// maxMacroDepth bounds nested macro calls in one render. Templates that
// render JSON schemas recurse a few levels; Python's own recursion limit
// stops jinja2 at a few hundred.
const maxMacroDepth = 200

// depthKey names the per-render macro depth counter in the render context;
// the space keeps templates from reading or assigning it.
const depthKey = "loom macro depth"

// errRecursion is returned by a macro call nested deeper than maxMacroDepth.
var errRecursion = fmt.Errorf("macro calls nested deeper than %d", maxMacroDepth)

// parseFor is gonja's for-loop parser, refusing `recursive` loops, whose
// loop(...) calls cannot be bounded from outside gonja. No chat template
// uses them.
func parseFor(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	parse, ok := controls.All.Get("for")
	if !ok {
		return nil, errors.New("gonja has no for loop")
	}
	cs, err := parse(p, args)
	if err != nil {
		return nil, err
	}
	if f, ok := cs.(*controls.ForControlStructure); ok && f.Recursive {
		return nil, args.Error("recursive for loops are not supported", nil)
	}
	return cs, nil
}

// parseMacro is gonja's macro parser with calls to the macro counted
// against maxMacroDepth.
func parseMacro(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	parse, ok := controls.All.Get("macro")
	if !ok {
		return nil, errors.New("gonja has no macro")
	}
	cs, err := parse(p, args)
	if err != nil {
		return nil, err
	}
	m, ok := cs.(*controls.MacroControlStructure)
	if !ok {
		return nil, fmt.Errorf("gonja's macro parser returned a %T", cs)
	}
	return &boundedMacro{m}, nil
}

// boundedMacro defines a macro like gonja's, then wraps the function gonja
// put into the context with a depth check.
type boundedMacro struct {
	*controls.MacroControlStructure
}

// Execute defines the macro in the current scope.
func (b *boundedMacro) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	if err := b.MacroControlStructure.Execute(r, tag); err != nil {
		return err
	}
	ctx := r.Environment.Context
	v, _ := ctx.Get(b.Name)
	macro, ok := v.(exec.Macro)
	if !ok {
		return fmt.Errorf("macro %s: gonja defined a %T", b.Name, v)
	}
	d, _ := ctx.Get(depthKey)
	depth, ok := d.(*int)
	if !ok {
		return fmt.Errorf("macro %s: no depth counter in the render context", b.Name)
	}
	ctx.Set(b.Name, exec.Macro(func(params *exec.VarArgs) *exec.Value {
		if *depth >= maxMacroDepth {
			return exec.AsValue(errRecursion)
		}
		*depth++
		defer func() { *depth-- }()
		return macro(params)
	}))
	return nil
}
