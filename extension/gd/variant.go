package gd

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"unsafe"
)

// VariantType is Godot's Variant::Type.
type VariantType int32

// The Variant types the binding converts.
const (
	TypeNil               VariantType = C.GDEXTENSION_VARIANT_TYPE_NIL
	TypeBool              VariantType = C.GDEXTENSION_VARIANT_TYPE_BOOL
	TypeInt               VariantType = C.GDEXTENSION_VARIANT_TYPE_INT
	TypeFloat             VariantType = C.GDEXTENSION_VARIANT_TYPE_FLOAT
	TypeString            VariantType = C.GDEXTENSION_VARIANT_TYPE_STRING
	TypeStringName        VariantType = C.GDEXTENSION_VARIANT_TYPE_STRING_NAME
	TypeObject            VariantType = C.GDEXTENSION_VARIANT_TYPE_OBJECT
	TypeDictionary        VariantType = C.GDEXTENSION_VARIANT_TYPE_DICTIONARY
	TypeArray             VariantType = C.GDEXTENSION_VARIANT_TYPE_ARRAY
	TypePackedInt32Array  VariantType = C.GDEXTENSION_VARIANT_TYPE_PACKED_INT32_ARRAY
	TypePackedStringArray VariantType = C.GDEXTENSION_VARIANT_TYPE_PACKED_STRING_ARRAY
	typeMax               VariantType = C.GDEXTENSION_VARIANT_TYPE_VARIANT_MAX
)

var typeNames = map[VariantType]string{
	TypeNil: "Nil", TypeBool: "bool", TypeInt: "int", TypeFloat: "float", TypeString: "String",
	TypeStringName: "StringName", TypeObject: "Object", TypeDictionary: "Dictionary", TypeArray: "Array",
	TypePackedInt32Array: "PackedInt32Array", TypePackedStringArray: "PackedStringArray",
}

// String returns the GDScript name of the type.
func (t VariantType) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Variant type %d", int32(t))
}

// ErrUnsupported reports a Variant type, or a Go type, that the binding does
// not convert.
var ErrUnsupported = errors.New("gd: unsupported type")

// ErrTooDeep reports nested Arrays/Dictionaries deeper than MaxDepth (or one
// that contains itself).
var ErrTooDeep = errors.New("gd: value nested too deeply")

// MaxDepth bounds the nesting of Arrays and Dictionaries converted to Go, so
// a self-containing Array cannot recurse forever.
const MaxDepth = 32

// Variant is a Godot Variant stored in Go memory (24 bytes, 8-aligned). A
// Variant that holds a value owns it and must be released with Destroy.
//
// Do not embed a Variant in a struct that holds Go pointers: cgo checks the
// whole allocation a pointer passed to C points into, and would reject it.
// Keep a *Variant (NewVariant returns one) instead.
type Variant struct{ raw [3]uint64 }

func (v *Variant) ptr() unsafe.Pointer { return unsafe.Pointer(&v.raw) }

// variantAt views Godot-owned Variant memory.
func variantAt(p unsafe.Pointer) *Variant { return (*Variant)(p) }

// Type returns the Variant's type.
func (v *Variant) Type() VariantType {
	return VariantType(C.loom_gd_variant_get_type(C.GDExtensionConstVariantPtr(v.ptr())))
}

// Destroy releases the value (dropping the reference it may hold) and leaves
// v Nil.
func (v *Variant) Destroy() {
	C.loom_gd_variant_destroy(C.GDExtensionVariantPtr(v.ptr()))
	C.loom_gd_variant_new_nil(C.GDExtensionUninitializedVariantPtr(v.ptr()))
}

// Stringify returns the value as GDScript's str() would print it.
func (v *Variant) Stringify() string {
	var s stringValue
	C.loom_gd_variant_stringify(C.GDExtensionConstVariantPtr(v.ptr()), C.GDExtensionUninitializedStringPtr(s.ptr()))
	defer s.destroy()
	return s.goString()
}

// NewVariant converts a Go value to a Variant. Supported: nil, bool, all int
// and float kinds, string, Object, *Variant (copied), []any (Array),
// map[string]any (Dictionary, keys inserted in sorted order), []int32 and
// []int (PackedInt32Array), []string (PackedStringArray). The Variant is
// Nil when err is set.
func NewVariant(x any) (*Variant, error) {
	v := new(Variant)
	err := v.init(x, 0)
	return v, err
}

// init fills uninitialized v with x.
func (v *Variant) init(x any, depth int) error {
	if depth > MaxDepth {
		C.loom_gd_variant_new_nil(C.GDExtensionUninitializedVariantPtr(v.ptr()))
		return ErrTooDeep
	}
	dst := C.GDExtensionUninitializedVariantPtr(v.ptr())
	switch x := x.(type) {
	case nil:
		C.loom_gd_variant_new_nil(dst)
	case *Variant:
		C.loom_gd_variant_new_copy(dst, C.GDExtensionConstVariantPtr(x.ptr()))
	case bool:
		b := C.GDExtensionBool(0)
		if x {
			b = 1
		}
		variantFrom(TypeBool, v, unsafe.Pointer(&b))
	case int:
		v.initInt(int64(x))
	case int32:
		v.initInt(int64(x))
	case int64:
		v.initInt(x)
	case uint32:
		v.initInt(int64(x))
	case float32:
		v.initFloat(float64(x))
	case float64:
		v.initFloat(x)
	case string:
		s := newString(x)
		defer s.destroy()
		variantFrom(TypeString, v, s.ptr())
	case stringNameArg:
		variantFrom(TypeStringName, v, unsafe.Pointer(stringName(string(x))))
	case Object:
		p := C.GDExtensionObjectPtr(x.ptr())
		variantFrom(TypeObject, v, unsafe.Pointer(&p))
	case []any:
		var a arrayValue
		newType(TypeArray, a.ptr())
		defer destroyType(TypeArray, a.ptr())
		for _, el := range x {
			var ev Variant
			err := ev.init(el, depth+1)
			if err == nil {
				a.append(&ev)
			}
			ev.Destroy()
			if err != nil {
				C.loom_gd_variant_new_nil(dst)
				return err
			}
		}
		variantFrom(TypeArray, v, a.ptr())
	case map[string]any:
		var d dictionaryValue
		newType(TypeDictionary, d.ptr())
		defer destroyType(TypeDictionary, d.ptr())
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := d.set(k, x[k], depth+1); err != nil {
				C.loom_gd_variant_new_nil(dst)
				return err
			}
		}
		variantFrom(TypeDictionary, v, d.ptr())
	case []int32:
		p := newPackedInt32(x)
		defer destroyType(TypePackedInt32Array, p.ptr())
		variantFrom(TypePackedInt32Array, v, p.ptr())
	case []int:
		ids := make([]int32, len(x))
		for i, id := range x {
			if id < math.MinInt32 || id > math.MaxInt32 {
				C.loom_gd_variant_new_nil(dst)
				return fmt.Errorf("gd: element %d (%d) does not fit PackedInt32Array", i, id)
			}
			ids[i] = int32(id)
		}
		return v.init(ids, depth)
	case []string:
		p := newPackedString(x)
		defer destroyType(TypePackedStringArray, p.ptr())
		variantFrom(TypePackedStringArray, v, p.ptr())
	default:
		C.loom_gd_variant_new_nil(dst)
		return fmt.Errorf("%w: Go %T", ErrUnsupported, x)
	}
	return nil
}

func (v *Variant) initInt(i int64) { variantFrom(TypeInt, v, unsafe.Pointer(&i)) }

func (v *Variant) initFloat(f float64) { variantFrom(TypeFloat, v, unsafe.Pointer(&f)) }

// Go converts the Variant to a Go value: nil, bool, int64, float64, string
// (String and StringName), Object, []any (Array), map[string]any
// (Dictionary with String/StringName keys), []int32 (PackedInt32Array),
// []string (PackedStringArray).
func (v *Variant) Go() (any, error) { return v.goValue(0) }

func (v *Variant) goValue(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, ErrTooDeep
	}
	switch t := v.Type(); t {
	case TypeNil:
		return nil, nil
	case TypeBool:
		var b C.GDExtensionBool
		variantTo(TypeBool, unsafe.Pointer(&b), v)
		return b != 0, nil
	case TypeInt:
		var i int64
		variantTo(TypeInt, unsafe.Pointer(&i), v)
		return i, nil
	case TypeFloat:
		var f float64
		variantTo(TypeFloat, unsafe.Pointer(&f), v)
		return f, nil
	case TypeString:
		var s stringValue
		variantTo(TypeString, s.ptr(), v)
		defer s.destroy()
		return s.goString(), nil
	case TypeStringName:
		return v.Stringify(), nil
	case TypeObject:
		var p C.GDExtensionObjectPtr
		variantTo(TypeObject, unsafe.Pointer(&p), v)
		return Object(uintptr(unsafe.Pointer(p))), nil
	case TypeArray:
		var a arrayValue
		variantTo(TypeArray, a.ptr(), v)
		defer destroyType(TypeArray, a.ptr())
		return a.goValue(depth)
	case TypeDictionary:
		var d dictionaryValue
		variantTo(TypeDictionary, d.ptr(), v)
		defer destroyType(TypeDictionary, d.ptr())
		return d.goValue(depth)
	case TypePackedInt32Array:
		var p packedValue
		variantTo(TypePackedInt32Array, p.ptr(), v)
		defer destroyType(TypePackedInt32Array, p.ptr())
		return p.int32s(), nil
	case TypePackedStringArray:
		var p packedValue
		variantTo(TypePackedStringArray, p.ptr(), v)
		defer destroyType(TypePackedStringArray, p.ptr())
		return p.strings(), nil
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, t)
	}
}

// convert returns a new Variant holding v converted to type t with Godot's
// own rules (the ones GDScript applies to typed arguments), or false when
// Godot does not convert between the two types.
func (v *Variant) convert(t VariantType) (Variant, bool) {
	var out Variant
	if C.loom_gd_variant_can_convert_strict(C.GDExtensionVariantType(v.Type()), C.GDExtensionVariantType(t)) == 0 {
		return out, false
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(v)
	args := [1]C.GDExtensionConstVariantPtr{C.GDExtensionConstVariantPtr(v.ptr())}
	var cerr C.GDExtensionCallError
	C.loom_gd_variant_construct(C.GDExtensionVariantType(t), C.GDExtensionUninitializedVariantPtr(out.ptr()), &args[0], 1, &cerr)
	if cerr.error != C.GDEXTENSION_CALL_OK {
		out.Destroy()
		return out, false
	}
	return out, true
}

func variantFrom(t VariantType, dst *Variant, src unsafe.Pointer) {
	C.loom_gd_variant_from(C.GDExtensionVariantType(t), C.GDExtensionUninitializedVariantPtr(dst.ptr()), C.GDExtensionTypePtr(src))
}

func variantTo(t VariantType, dst unsafe.Pointer, src *Variant) {
	C.loom_gd_variant_to(C.GDExtensionVariantType(t), C.GDExtensionUninitializedTypePtr(dst), C.GDExtensionVariantPtr(src.ptr()))
}

func newType(t VariantType, dst unsafe.Pointer) {
	C.loom_gd_type_new(C.GDExtensionVariantType(t), C.GDExtensionUninitializedTypePtr(dst))
}

func destroyType(t VariantType, p unsafe.Pointer) {
	C.loom_gd_type_destroy(C.GDExtensionVariantType(t), C.GDExtensionTypePtr(p))
}
