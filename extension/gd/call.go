package gd

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"unsafe"
)

// Args are a method's arguments, converted to the declared types: bool,
// int64, float64, string, Object, []any (Array), map[string]any
// (Dictionary), []int32 (PackedInt32Array), []string (PackedStringArray).
type Args []any

// Bool returns argument i declared as TypeBool.
func (a Args) Bool(i int) bool { b, _ := a[i].(bool); return b }

// Int returns argument i declared as TypeInt.
func (a Args) Int(i int) int64 { n, _ := a[i].(int64); return n }

// Float returns argument i declared as TypeFloat.
func (a Args) Float(i int) float64 { f, _ := a[i].(float64); return f }

// String returns argument i declared as TypeString.
func (a Args) String(i int) string { s, _ := a[i].(string); return s }

// Object returns argument i declared as TypeObject (zero for null).
func (a Args) Object(i int) Object { o, _ := a[i].(Object); return o }

// Array returns argument i declared as TypeArray.
func (a Args) Array(i int) []any { x, _ := a[i].([]any); return x }

// Int32s returns argument i declared as TypePackedInt32Array.
func (a Args) Int32s(i int) []int32 { x, _ := a[i].([]int32); return x }

// Strings returns argument i declared as TypePackedStringArray.
func (a Args) Strings(i int) []string { x, _ := a[i].([]string); return x }

func (r *methodRecord) where() string { return r.class.def.Name + "." + r.m.Name }

// instance finds the receiver; static methods have none.
func (r *methodRecord) instance(instHandle uintptr) (Instance, bool) {
	if r.m.Static {
		return nil, true
	}
	ir := lookup(instHandle)
	if ir == nil {
		return nil, false
	}
	return ir.inst, true
}

//export goMethodCall
func goMethodCall(methodHandle, instHandle C.uintptr_t, args *unsafe.Pointer, argc C.int64_t, ret unsafe.Pointer, cerr *C.GDExtensionCallError) {
	r := methods[methodHandle-1]
	defer recoverBoundary(r.where())
	cerr.error = C.GDEXTENSION_CALL_OK
	want := len(r.m.Args)
	switch {
	case int(argc) > want:
		cerr.error, cerr.expected = C.GDEXTENSION_CALL_ERROR_TOO_MANY_ARGUMENTS, C.int32_t(want)
		return
	case int(argc) < want:
		cerr.error, cerr.expected = C.GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS, C.int32_t(want)
		return
	}
	self, ok := r.instance(uintptr(instHandle))
	if !ok {
		cerr.error = C.GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL
		return
	}
	var argv []unsafe.Pointer
	if want > 0 {
		argv = unsafe.Slice(args, want)
	}
	in := make(Args, want)
	for i, p := range r.m.Args {
		v := variantAt(argv[i])
		x, err := argFromVariant(v, p.Type)
		if err != nil {
			if v.Type() == p.Type {
				// Not a type mismatch, which Godot reports itself: say
				// what was wrong with the value.
				PrintError(r.where(), fmt.Sprintf("argument %d (%s): %v", i+1, p.Name, err))
			}
			cerr.error, cerr.argument, cerr.expected = C.GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT, C.int32_t(i), C.int32_t(p.Type)
			return
		}
		in[i] = x
	}
	out := r.m.Fn(self, in)
	if r.m.Return == nil {
		return
	}
	dst := variantAt(ret)
	C.loom_gd_variant_destroy(C.GDExtensionVariantPtr(dst.ptr()))
	x, err := normalize(out, r.m.Return.Type)
	if err == nil {
		err = dst.init(x, 0)
	} else {
		C.loom_gd_variant_new_nil(C.GDExtensionUninitializedVariantPtr(dst.ptr()))
	}
	if err != nil {
		PrintError(r.where(), "return value: "+err.Error())
	}
}

// argFromVariant checks and converts a `call` argument. A value of another
// type is converted the way Godot converts typed arguments (int to float,
// StringName to String, Array to packed arrays, ...); null is accepted for
// objects.
func argFromVariant(v *Variant, t VariantType) (any, error) {
	got := v.Type()
	if got == t {
		return v.Go()
	}
	if t == TypeObject && got == TypeNil {
		return Object(0), nil
	}
	conv, ok := v.convert(t)
	if !ok {
		return nil, fmt.Errorf("cannot convert %s to %s", got, t)
	}
	defer conv.Destroy()
	return conv.Go()
}

//export goMethodPtrCall
func goMethodPtrCall(methodHandle, instHandle C.uintptr_t, args *unsafe.Pointer, ret unsafe.Pointer) {
	r := methods[methodHandle-1]
	defer recoverBoundary(r.where())
	self, ok := r.instance(uintptr(instHandle))
	if !ok {
		PrintError(r.where(), "called on an instance that no longer exists")
		return
	}
	want := len(r.m.Args)
	var argv []unsafe.Pointer
	if want > 0 {
		argv = unsafe.Slice(args, want)
	}
	in := make(Args, want)
	for i, p := range r.m.Args {
		// ptrcall passes typed values; going through a Variant reuses the
		// one conversion path (an Object argument may be a Ref<T>, whose
		// first word is the object pointer, like Object*).
		var v Variant
		variantFrom(p.Type, &v, argv[i])
		x, err := v.Go()
		v.Destroy()
		if err != nil {
			PrintError(r.where(), fmt.Sprintf("argument %d: %v", i+1, err))
			return
		}
		in[i] = x
	}
	out := r.m.Fn(self, in)
	if r.m.Return == nil {
		return
	}
	if err := writeTyped(ret, *r.m.Return, out); err != nil {
		PrintError(r.where(), "return value: "+err.Error())
	}
}

// writeTyped stores x in a ptrcall return slot of type p. The slot already
// holds a constructed value: destroy it, then construct the new one.
func writeTyped(slot unsafe.Pointer, p Param, x any) error {
	x, err := normalize(x, p.Type)
	if err != nil {
		return err
	}
	switch p.Type {
	case TypeBool:
		b := C.GDExtensionBool(0)
		if x.(bool) {
			b = 1
		}
		*(*C.GDExtensionBool)(slot) = b
	case TypeInt:
		*(*int64)(slot) = x.(int64)
	case TypeFloat:
		*(*float64)(slot) = x.(float64)
	case TypeObject:
		obj := x.(Object)
		if slices.Contains(refCountedBases, p.Class) {
			C.loom_gd_ref_set_object(C.GDExtensionRefPtr(slot), C.GDExtensionObjectPtr(obj.ptr()))
		} else {
			*(*unsafe.Pointer)(slot) = obj.ptr()
		}
	default:
		var v Variant
		if err := v.init(x, 0); err != nil {
			return err
		}
		defer v.Destroy()
		destroyType(p.Type, slot)
		variantTo(p.Type, slot, &v)
	}
	return nil
}

// normalize turns a method's Go result into the canonical Go type of the
// declared Variant type (int kinds to int64, float kinds to float64, nil
// to a null Object), or reports a mismatch.
func normalize(x any, t VariantType) (any, error) {
	switch t {
	case TypeInt:
		switch n := x.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case int32:
			return int64(n), nil
		}
	case TypeFloat:
		switch f := x.(type) {
		case float64:
			return f, nil
		case float32:
			return float64(f), nil
		}
	case TypeBool:
		if b, ok := x.(bool); ok {
			return b, nil
		}
	case TypeObject:
		switch o := x.(type) {
		case nil:
			return Object(0), nil
		case Object:
			return o, nil
		}
	default:
		return x, nil
	}
	return nil, fmt.Errorf("Go %T is not a %s", x, t)
}
