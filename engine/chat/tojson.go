package chat

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// maxJSONDepth bounds tojson's recursion, so a self-referencing value built
// by a template ends in an error, not a stack overflow.
const maxJSONDepth = 64

// filterToJSON is transformers' tojson filter: Python's
// json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False), which, unlike jinja2's own tojson, neither escapes HTML
// characters nor sorts keys. Go maps have no insertion order, so their keys
// come out sorted; ordered dicts built by the template keep their order.
func filterToJSON(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	e := jsonEncoder{itemSep: ", ", keySep: ": "}
	for name, v := range params.KwArgs {
		switch name {
		case "ensure_ascii":
			e.ascii = v.IsTrue()
		case "sort_keys":
			e.sortKeys = v.IsTrue()
		case "indent":
			switch {
			case v.IsNil():
			case v.IsInteger():
				e.indent, e.indented = strings.Repeat(" ", max(v.Integer(), 0)), true
			case v.IsString():
				e.indent, e.indented = v.String(), true
			default:
				return exec.AsValue(fmt.Errorf("tojson: indent must be an integer or a string, not %s", v.String()))
			}
		case "separators":
			if v.IsNil() {
				continue
			}
			if v.Len() != 2 {
				return exec.AsValue(errors.New("tojson: separators must be a pair of strings"))
			}
			e.itemSep, e.keySep, e.explicitSeps = v.Index(0).String(), v.Index(1).String(), true
		default:
			return exec.AsValue(fmt.Errorf("tojson: unexpected argument %q", name))
		}
	}
	if len(params.Args) > 0 {
		return exec.AsValue(errors.New("tojson: takes keyword arguments only"))
	}
	if e.indented && !e.explicitSeps {
		e.itemSep = "," // json.dumps' default when an indent is given
	}
	if err := e.encode(in, 0); err != nil {
		return exec.AsValue(fmt.Errorf("tojson: %w", err))
	}
	return exec.AsSafeValue(e.b.String())
}

// jsonEncoder writes one value the way Python's json module does.
type jsonEncoder struct {
	b               strings.Builder
	ascii, sortKeys bool
	indent          string
	indented        bool
	itemSep, keySep string
	explicitSeps    bool
}

func (e *jsonEncoder) encode(v any, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("value nested too deeply")
	}
	if ev, ok := v.(*exec.Value); ok {
		if ev == nil || ev.IsNil() {
			e.b.WriteString("null")
			return nil
		}
		v = ev.Interface()
	}
	switch x := v.(type) {
	case nil:
		e.b.WriteString("null")
	case bool:
		e.b.WriteString(strconv.FormatBool(x))
	case string:
		e.str(x)
	case exec.Dict:
		return e.dict(x.Pairs, depth)
	case *exec.Dict:
		return e.dict(x.Pairs, depth)
	case error:
		return x
	default:
		return e.reflected(reflect.ValueOf(v), depth)
	}
	return nil
}

// reflected encodes numbers, slices and maps of any Go type.
func (e *jsonEncoder) reflected(r reflect.Value, depth int) error {
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b.WriteString(strconv.FormatInt(r.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b.WriteString(strconv.FormatUint(r.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		e.b.WriteString(pyFloat(r.Float()))
	case reflect.Slice, reflect.Array:
		items := make([]any, r.Len())
		for i := range items {
			items[i] = r.Index(i).Interface()
		}
		return e.list(items, depth)
	case reflect.Map:
		pairs := make([]*exec.Pair, 0, r.Len())
		for _, k := range r.MapKeys() {
			pairs = append(pairs, &exec.Pair{Key: exec.AsValue(k.Interface()), Value: exec.AsValue(r.MapIndex(k).Interface())})
		}
		// Go maps have no order; sorting keeps the output deterministic.
		slices.SortFunc(pairs, func(a, b *exec.Pair) int { return strings.Compare(a.Key.String(), b.Key.String()) })
		return e.dict(pairs, depth)
	case reflect.Pointer, reflect.Interface:
		if r.IsNil() {
			e.b.WriteString("null")
			return nil
		}
		return e.encode(r.Elem().Interface(), depth+1)
	default:
		return fmt.Errorf("cannot serialise a %s", r.Type())
	}
	return nil
}

func (e *jsonEncoder) newline(depth int) {
	if e.indented {
		e.b.WriteByte('\n')
		for range depth {
			e.b.WriteString(e.indent)
		}
	}
}

func (e *jsonEncoder) list(items []any, depth int) error {
	if len(items) == 0 {
		e.b.WriteString("[]")
		return nil
	}
	e.b.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			e.b.WriteString(e.itemSep)
		}
		e.newline(depth + 1)
		if err := e.encode(item, depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.b.WriteByte(']')
	return nil
}

func (e *jsonEncoder) dict(pairs []*exec.Pair, depth int) error {
	if len(pairs) == 0 {
		e.b.WriteString("{}")
		return nil
	}
	if e.sortKeys {
		pairs = slices.Clone(pairs)
		slices.SortStableFunc(pairs, func(a, b *exec.Pair) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	}
	e.b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			e.b.WriteString(e.itemSep)
		}
		e.newline(depth + 1)
		key, err := jsonKey(p.Key)
		if err != nil {
			return err
		}
		e.str(key)
		e.b.WriteString(e.keySep)
		if err := e.encode(p.Value, depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.b.WriteByte('}')
	return nil
}

// jsonKey converts a dict key as json.dumps does: strings stay, numbers,
// booleans and None become their JSON text.
func jsonKey(k *exec.Value) (string, error) {
	switch {
	case k.IsString():
		return k.String(), nil
	case k.IsNil():
		return "null", nil
	case k.IsBool():
		return strconv.FormatBool(k.Bool()), nil
	case k.IsInteger():
		return strconv.Itoa(k.Integer()), nil
	case k.IsFloat():
		return pyFloat(k.Float()), nil
	}
	return "", fmt.Errorf("keys must be str, int, float, bool or None, not %s", k.String())
}

// str writes s as a JSON string with Python's escapes: the named ones for
// \b \f \n \r \t, \u00XX for other control characters and, with ascii,
// \uXXXX (surrogate pairs above U+FFFF) for everything outside ' '..'~'.
func (e *jsonEncoder) str(s string) {
	e.b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			e.b.WriteString(`\"`)
		case '\\':
			e.b.WriteString(`\\`)
		case '\b':
			e.b.WriteString(`\b`)
		case '\f':
			e.b.WriteString(`\f`)
		case '\n':
			e.b.WriteString(`\n`)
		case '\r':
			e.b.WriteString(`\r`)
		case '\t':
			e.b.WriteString(`\t`)
		default:
			switch {
			case r < 0x20 || (e.ascii && r > '~'):
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(&e.b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(&e.b, `\u%04x`, r)
				}
			default:
				e.b.WriteRune(r)
			}
		}
	}
	e.b.WriteByte('"')
}

// pyFloat formats f like Python's float.__repr__: the shortest string that
// reads back as f, in fixed notation for 1e-4 <= |f| < 1e16 (always with a
// fractional part) and otherwise as d.ddde±XX. NaN and infinities are
// json.dumps' NaN, Infinity and -Infinity.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-4 && a < 1e16) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(f, 'e', -1, 64) // 1e+16, 1.5e-05: Python's form too
}
