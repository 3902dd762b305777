package chat

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// This file holds the Python semantics gonja gets wrong and chat templates
// rely on: list indexing from the end, str.strip/split and friends, and
// jinja2's sandboxed range().

// pyList is a list with Python's indexing: list[-1] is the last item (gonja
// only accepts -i when len > i, so messages[-1] of a one-message chat
// fails). Slicing a pyList keeps the type, so messages[1:][-1] works too.
type pyList []any

// GetItem implements gonja's ItemGetter: integer keys index from the front,
// or from the end when negative; anything else is not found (undefined).
func (l pyList) GetItem(key any) (*exec.Value, bool) {
	i, ok := key.(int)
	if !ok {
		return exec.AsValue(nil), false
	}
	if i < 0 {
		i += len(l)
	}
	if i < 0 || i >= len(l) {
		return exec.AsValue(nil), false
	}
	return exec.ToValue(l[i]), true
}

// pyIsSpace is Python's str.isspace for one character: Unicode White_Space
// plus the ASCII separators U+001C..U+001F, which Go's unicode.IsSpace
// leaves out.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// stripArg reads str.strip's optional chars argument: none (or None) means
// whitespace.
func stripArg(method string, args *exec.VarArgs) (func(rune) bool, error) {
	if len(args.KwArgs) > 0 || len(args.Args) > 1 {
		return nil, fmt.Errorf("%s takes at most one positional argument", method)
	}
	if len(args.Args) == 0 || args.Args[0].IsNil() {
		return pyIsSpace, nil
	}
	if !args.Args[0].IsString() {
		return nil, fmt.Errorf("%s arg must be None or str", method)
	}
	chars := args.Args[0].String()
	return func(r rune) bool { return strings.ContainsRune(chars, r) }, nil
}

// splitArgs reads str.split's (sep=None, maxsplit=-1), by position or name.
func splitArgs(method string, args *exec.VarArgs) (sep *string, maxsplit int, err error) {
	maxsplit = -1
	if len(args.Args) > 2 {
		return nil, 0, fmt.Errorf("%s takes at most two arguments", method)
	}
	get := func(pos int, name string) *exec.Value {
		if pos < len(args.Args) {
			return args.Args[pos]
		}
		return args.KwArgs[name]
	}
	for name := range args.KwArgs {
		if name != "sep" && name != "maxsplit" {
			return nil, 0, fmt.Errorf("%s got an unexpected keyword argument %q", method, name)
		}
	}
	if v := get(0, "sep"); v != nil && !v.IsNil() {
		if !v.IsString() {
			return nil, 0, fmt.Errorf("%s: sep must be None or str", method)
		}
		s := v.String()
		if s == "" {
			return nil, 0, fmt.Errorf("%s: empty separator", method)
		}
		sep = &s
	}
	if v := get(1, "maxsplit"); v != nil {
		if !v.IsInteger() {
			return nil, 0, fmt.Errorf("%s: maxsplit must be an integer", method)
		}
		maxsplit = v.Integer()
	}
	return sep, maxsplit, nil
}

// pySplit is str.split: on sep, or on runs of whitespace (ignoring leading
// and trailing whitespace) when sep is nil; at most maxsplit splits when
// maxsplit >= 0.
func pySplit(s string, sep *string, maxsplit int) pyList {
	var parts []string
	switch {
	case sep != nil && maxsplit < 0:
		parts = strings.Split(s, *sep)
	case sep != nil:
		parts = strings.SplitN(s, *sep, maxsplit+1)
	default:
		for maxsplit != 0 {
			s = strings.TrimLeftFunc(s, pyIsSpace)
			if s == "" {
				break
			}
			end := strings.IndexFunc(s, pyIsSpace)
			if end < 0 {
				break
			}
			parts = append(parts, s[:end])
			s = s[end:]
			maxsplit--
		}
		if s = strings.TrimLeftFunc(s, pyIsSpace); s != "" {
			parts = append(parts, s)
		}
	}
	out := make(pyList, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

// pyRSplit is str.rsplit: like pySplit, but the maxsplit splits are taken
// from the right.
func pyRSplit(s string, sep *string, maxsplit int) pyList {
	if maxsplit < 0 {
		return pySplit(s, sep, maxsplit)
	}
	var parts []string
	for maxsplit > 0 {
		if sep != nil {
			i := strings.LastIndex(s, *sep)
			if i < 0 {
				break
			}
			parts = append(parts, s[i+len(*sep):])
			s = s[:i]
		} else {
			s = strings.TrimRightFunc(s, pyIsSpace)
			i := strings.LastIndexFunc(s, pyIsSpace)
			if i < 0 {
				break
			}
			_, size := utf8.DecodeRuneInString(s[i:])
			parts = append(parts, s[i+size:])
			s = s[:i]
		}
		maxsplit--
	}
	if sep == nil {
		// The rest keeps its leading whitespace, as in Python.
		if s = strings.TrimRightFunc(s, pyIsSpace); s != "" {
			parts = append(parts, s)
		}
	} else {
		parts = append(parts, s)
	}
	out := make(pyList, len(parts))
	for i, p := range parts {
		out[len(parts)-1-i] = p
	}
	return out
}

// strOverrides replace gonja's versions of these str methods.
var strOverrides = map[string]exec.Method[string]{
	"strip": func(s string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		f, err := stripArg("strip", args)
		if err != nil {
			return nil, err
		}
		return strings.TrimFunc(s, f), nil
	},
	"lstrip": func(s string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		f, err := stripArg("lstrip", args)
		if err != nil {
			return nil, err
		}
		return strings.TrimLeftFunc(s, f), nil
	},
	"rstrip": func(s string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		f, err := stripArg("rstrip", args)
		if err != nil {
			return nil, err
		}
		return strings.TrimRightFunc(s, f), nil
	},
	"replace": func(s string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		n := -1
		switch {
		case len(args.KwArgs) > 1 || len(args.Args) < 2 || len(args.Args)+len(args.KwArgs) > 3:
			return nil, errors.New("replace expects (old, new[, count])")
		case len(args.Args) == 3:
			if !args.Args[2].IsInteger() {
				return nil, errors.New("replace: count must be an integer")
			}
			n = args.Args[2].Integer()
		case len(args.KwArgs) == 1:
			v, ok := args.KwArgs["count"]
			if !ok || !v.IsInteger() {
				return nil, errors.New("replace: only an integer count may be named")
			}
			n = v.Integer()
		}
		if !args.Args[0].IsString() || !args.Args[1].IsString() {
			return nil, errors.New("replace: old and new must be strings")
		}
		return strings.Replace(s, args.Args[0].String(), args.Args[1].String(), n), nil
	},
	"split": func(s string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		sep, n, err := splitArgs("split", args)
		if err != nil {
			return nil, err
		}
		return pySplit(s, sep, n), nil
	},
	"rsplit": func(s string, _ *exec.Value, args *exec.VarArgs) (any, error) {
		sep, n, err := splitArgs("rsplit", args)
		if err != nil {
			return nil, err
		}
		return pyRSplit(s, sep, n), nil
	},
}

// strMethodNames are the str methods gonja implements (its MethodSet cannot
// be listed, so they are named here to be copied).
var strMethodNames = []string{
	"capitalize", "capwords", "casefold", "center", "count", "encode",
	"endswith", "expandtabs", "find", "format", "format_map", "isalnum",
	"isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric",
	"isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
	"lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind",
	"rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
	"startswith", "strip", "swapcase", "title", "upper", "zfill",
}

// methods returns gonja's builtin methods with strOverrides in place.
func methods() exec.Methods {
	str := map[string]exec.Method[string]{}
	for _, name := range strMethodNames {
		if m, ok := builtins.Methods.Str.Get(name); ok {
			str[name] = m
		}
	}
	for name, m := range strOverrides {
		str[name] = m
	}
	m := builtins.Methods
	m.Str = exec.NewMethodSet(str)
	return m
}

// maxRange is jinja2's sandbox limit on range() (MAX_RANGE), which
// transformers' ImmutableSandboxedEnvironment inherits.
const maxRange = 100000

// pyRange is the sandbox's range(): range([start,] stop[, step]) as a list,
// an error beyond maxRange items. (gonja's own range streams through a
// goroutine that leaks when a loop breaks early.)
func pyRange(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.KwArgs) > 0 || len(params.Args) == 0 || len(params.Args) > 3 {
		return exec.AsValue(errors.New("range expects [start, ]stop[, step]"))
	}
	var n [3]int
	for i, a := range params.Args {
		if !a.IsInteger() {
			return exec.AsValue(fmt.Errorf("range: %s is not an integer", a.String()))
		}
		n[i] = a.Integer()
	}
	start, stop, step := 0, n[0], 1
	if len(params.Args) > 1 {
		start, stop = n[0], n[1]
	}
	if len(params.Args) == 3 {
		step = n[2]
	}
	if step == 0 {
		return exec.AsValue(errors.New("range: step must not be zero"))
	}
	var count int
	switch {
	case step > 0 && stop > start:
		count = (stop - start + step - 1) / step
	case step < 0 && stop < start:
		count = (start - stop - step - 1) / -step
	}
	if count > maxRange {
		return exec.AsValue(fmt.Errorf("range too big: the sandbox blocks ranges larger than %d", maxRange))
	}
	out := make(pyList, count)
	for i := range out {
		out[i] = start + i*step
	}
	return exec.AsValue(out)
}
